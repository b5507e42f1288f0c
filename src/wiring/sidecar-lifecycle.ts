import type { RequestListener, Server } from "node:http";
import type { GrpcListener } from "./grpc-listener.js";
import { listen, type Listening } from "./listen.js";
import type { SidecarCore } from "./sidecar-core.js";
import type { Sidecar, SidecarAddresses } from "./sidecar.js";

/** An HTTP listener to bind at start: its handler, and where. */
export interface HttpListenerPlan {
  readonly handler: RequestListener;
  readonly host: string;
  readonly port: number;
}

/** What start and stop do to the core: its snapshot, combined roles, store and observability. */
export interface LifecycleCore {
  readonly sync: Pick<SidecarCore["sync"], "start" | "stop">;
  readonly combined: Pick<NonNullable<SidecarCore["combined"]>, "start" | "stop"> | undefined;
  readonly store: Pick<SidecarCore["store"], "close">;
  readonly observability: Pick<SidecarCore["observability"], "shutdown">;
}

/** What start and stop act on. */
export interface LifecycleParts {
  readonly core: LifecycleCore;
  readonly http: {
    readonly webhook: HttpListenerPlan;
    readonly admin: HttpListenerPlan;
    readonly metrics: HttpListenerPlan;
  };
  readonly grpc: GrpcListener;
  /** Called once every listener is bound and the first snapshot loaded: readiness may turn true from then on. */
  readonly onListening: () => void;
  /** Called as stop() begins. */
  readonly onStop: () => void;
  /** Closes what the webhook holds beyond its listener (the shadow client). */
  readonly closeWebhook: () => Promise<void>;
}

/** start(), ports() and stop() of a built sidecar, over its listeners and its core. */
export function sidecarLifecycle(parts: LifecycleParts): Pick<Sidecar, "start" | "ports" | "stop"> {
  const listeners: Listening[] = [];
  let addresses: SidecarAddresses | undefined;
  let stopped: Promise<void> | undefined;
  return {
    async start() {
      addresses = await startAll(parts, listeners);
      return addresses;
    },
    ports() {
      if (!addresses) throw new Error("the sidecar is not started");
      return addresses;
    },
    stop(graceMs, drainMs = 0) {
      // A second call (a second signal, a test's teardown) waits for the first instead of closing twice.
      stopped ??= stopAll(parts, listeners, graceMs, drainMs);
      return stopped;
    },
  };
}

// Listen first: in the pod, Hasura (the store) starts only once this sidecar's startup probe answers.
async function startAll(parts: LifecycleParts, listeners: Listening[]): Promise<SidecarAddresses> {
  const bind = async (plan: HttpListenerPlan): Promise<number> => {
    const listening = await listen(plan.handler, plan.host, plan.port);
    listeners.push(listening);
    return listening.port;
  };
  const webhookPort = await bind(parts.http.webhook);
  const adminPort = await bind(parts.http.admin);
  const metricsPort = await bind(parts.http.metrics);
  // The gRPC port binds while the first snapshot loads; the pod is ready only once both are done, so that no
  // probe says ready before the RoleMapping API accepts.
  const [grpcPort] = await Promise.all([parts.grpc.bind(), parts.core.sync.start()]);
  parts.core.combined?.start();
  parts.onListening();
  return { webhookPort, adminPort, grpcPort, metricsPort };
}

async function stopAll(
  parts: LifecycleParts,
  listeners: readonly Listening[],
  graceMs: number,
  drainMs: number,
): Promise<void> {
  parts.onStop();
  for (const listener of listeners) closeEachConnection(listener.server);
  // Requests already on their way over kept-alive connections are answered, not reset, while the
  // clients learn (Connection: close) to open new connections, which will find the port closed.
  if (drainMs > 0 && listeners.length > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
  const { core } = parts;
  core.sync.stop();
  core.combined?.stop();
  await Promise.all([...listeners.map((listener) => listener.close(graceMs)), parts.grpc.shutdown(graceMs)]);
  await core.store.close();
  await parts.closeWebhook();
  await core.observability.shutdown();
}

// From now on every response asks the client to close its connection instead of reusing it. Added only when
// stopping, so that no code of the wiring runs on a request before then.
function closeEachConnection(server: Server): void {
  server.prependListener("request", (_req, res) => {
    res.setHeader("connection", "close");
  });
}
