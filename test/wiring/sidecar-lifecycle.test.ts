import { describe, expect, it } from "vitest";
import type { GrpcListener } from "../../src/wiring/grpc-listener.js";
import { sidecarLifecycle, type LifecycleCore } from "../../src/wiring/sidecar-lifecycle.js";

/** A promise and the function that settles it, for a step the test finishes itself. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

const plan = { handler: () => undefined, host: "127.0.0.1", port: 0 };

// The start's steps in order, with the gRPC bind and the first snapshot load finished by the test.
function startedLifecycle() {
  const steps: string[] = [];
  const grpcBound = deferred<number>();
  const snapshotLoaded = deferred<void>();
  const core: LifecycleCore = {
    sync: {
      start: () => (steps.push("snapshot load begins"), snapshotLoaded.promise),
      stop: () => undefined,
    },
    combined: undefined,
    store: { close: async () => undefined },
    observability: { shutdown: async () => undefined },
  };
  const grpc: GrpcListener = {
    bind: () => (steps.push("gRPC bind begins"), grpcBound.promise),
    shutdown: async () => undefined,
    heldWatchers: () => 0,
  };
  const lifecycle = sidecarLifecycle({
    core,
    http: { webhook: plan, admin: plan, metrics: plan },
    grpc,
    onListening: () => steps.push("listening"),
    onStop: () => steps.push("stopping"),
    closeWebhook: async () => undefined,
  });
  const started = lifecycle.start();
  return { lifecycle, started, steps, grpcBound, snapshotLoaded };
}

/** Lets every step that can run now run: the start waits on nothing else the test does not finish itself. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("the sidecar's start", () => {
  it("is not listening (nor ready) until the gRPC port is bound, even once the first snapshot is loaded", async () => {
    const { lifecycle, started, steps, grpcBound, snapshotLoaded } = startedLifecycle();
    await expect.poll(() => steps).toContain("gRPC bind begins");
    snapshotLoaded.resolve();
    await settle();
    expect(steps).not.toContain("listening");
    grpcBound.resolve(50051);
    expect((await started).grpcPort).toBe(50051);
    expect(steps.at(-1)).toBe("listening");
    await lifecycle.stop(100);
  });

  it("is not listening until the first snapshot is loaded, even once the gRPC port is bound", async () => {
    const { lifecycle, started, steps, grpcBound, snapshotLoaded } = startedLifecycle();
    await expect.poll(() => steps).toContain("snapshot load begins");
    grpcBound.resolve(50051);
    await settle();
    expect(steps).not.toContain("listening");
    snapshotLoaded.resolve();
    await started;
    expect(steps.at(-1)).toBe("listening");
    await lifecycle.stop(100);
  });

  it("binds the gRPC port while the first snapshot loads, not after it", async () => {
    const { lifecycle, started, steps, grpcBound, snapshotLoaded } = startedLifecycle();
    await expect.poll(() => steps).toContain("snapshot load begins");
    await expect.poll(() => steps).toContain("gRPC bind begins");
    grpcBound.resolve(50051);
    snapshotLoaded.resolve();
    await started;
    await lifecycle.stop(100);
    expect(steps.at(-1)).toBe("stopping");
  });
});
