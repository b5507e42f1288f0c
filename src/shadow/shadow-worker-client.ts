import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Logger } from "pino";
import type { FromShadowWorker, PostBatch, ShadowWorkerData, ToShadowWorker } from "./shadow-batch.js";
import { pack, scheduleFlush, unpacked } from "./shadow-batch.js";
import type { ShadowPost, ShadowReceiver } from "./shadow-client.js";

/** What the client is built from: the previous webhook's URL, the client's limits, where a failure is logged. */
export interface ShadowWorkerClientOptions extends ShadowWorkerData {
  readonly logger: Pick<Logger, "error">;
  /** The clock that spaces restarts (tests). */
  readonly now?: () => number;
}

/** ShadowPost on a thread of its own, and its end. */
export interface ShadowWorkerClient {
  readonly post: ShadowPost;
  /** Ends the thread: its pool closed (calls in flight answered or timed out), then terminated. Later posts fail. */
  close(): Promise<void>;
  /** The thread making the calls now; undefined between a failure and the next start, and after close. */
  readonly worker: Worker | undefined;
}

/** How a call fails that the thread's client did not end: the thread stopped, is not restarted yet, or closed. */
export class ShadowWorkerError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/** At most one new thread a second after failures: a thread that cannot start does not spin. */
export const RESTART_INTERVAL_MS = 1000;

/**
 * The calls to the previous webhook made by shadowClient (undici) on a worker thread, so that their HTTP exchange
 * (writing, reading and parsing) is not on the event loop that answers Hasura. The calls of `gatherMs` (0: of one
 * event-loop turn) go to the thread in one message, their bodies copied into one transferred buffer; its answers
 * come back the same way.
 * If the thread fails, every call in flight fails (one error line) and a new thread starts for later calls, at most
 * once per RESTART_INTERVAL_MS (calls in between fail).
 */
export function shadowWorkerClient(options: ShadowWorkerClientOptions): ShadowWorkerClient {
  return new WorkerBackedClient(options);
}

class WorkerBackedClient implements ShadowWorkerClient {
  private current: Worker | undefined;
  private startedAt = 0;
  private nextId = 0;
  private readonly pending = new Map<number, ShadowReceiver>();
  private bodies: Buffer[] = [];
  private receivers: ShadowReceiver[] = [];
  private size = 0;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  private onClosed: (() => void) | undefined;
  private readonly data: ShadowWorkerData;
  private readonly logger: Pick<Logger, "error">;
  private readonly now: () => number;

  constructor({ url, timeoutMs, connections, gatherMs, logger, now = Date.now }: ShadowWorkerClientOptions) {
    this.data = { url, timeoutMs, connections, gatherMs };
    this.logger = logger;
    this.now = now;
    this.current = this.start();
  }

  get worker(): Worker | undefined {
    return this.current;
  }

  // Gathered for the next message: no promise or closure per call.
  readonly post: ShadowPost = (body, receiver) => {
    this.bodies.push(body);
    this.receivers.push(receiver);
    this.size += body.length;
    if (this.scheduled) return;
    this.scheduled = true;
    scheduleFlush(this.data.gatherMs, this.flush);
  };

  // The gathered calls, numbered from `first` in order, to the thread (a new one if allowed), or failed.
  private readonly flush = (): void => {
    this.scheduled = false;
    const { bodies, receivers, size } = this;
    if (receivers.length === 0) return;
    this.bodies = [];
    this.receivers = [];
    this.size = 0;
    const worker = this.current ?? this.restart();
    if (worker === undefined) return failEach(receivers, this.unavailable());
    const first = this.nextId;
    for (const receiver of receivers) this.pending.set(this.nextId++, receiver);
    const { ends, bytes } = pack(bodies, size);
    const batch: PostBatch = { kind: "posts", first, ends, bytes };
    worker.postMessage(batch satisfies ToShadowWorker, [bytes]);
  };

  private unavailable(): ShadowWorkerError {
    return this.closed
      ? new ShadowWorkerError("the shadow webhook client is closed", "SHADOW_CLIENT_CLOSED")
      : new ShadowWorkerError(
          "the shadow webhook client's thread stopped; a new one starts at most once a second",
          "SHADOW_WORKER_RESTARTING",
        );
  }

  private restart(): Worker | undefined {
    if (this.closed || this.now() - this.startedAt < RESTART_INTERVAL_MS) return undefined;
    try {
      this.current = this.start();
      return this.current;
    } catch (error) {
      this.logFailure(error as Error, 0);
      return undefined;
    }
  }

  private start(): Worker {
    this.startedAt = this.now();
    const { code, eval: isCode } = workerEntry();
    const worker = new Worker(code, { workerData: this.data, eval: isCode });
    // The sidecar's stop closes it (close()); it does not keep the process alive by itself.
    worker.unref();
    worker.on("message", (message: FromShadowWorker) => this.received(message));
    worker.on("error", (error: Error) => this.stopped(worker, error));
    worker.on("messageerror", (error: Error) => this.stopped(worker, error));
    worker.on("exit", (code: number) =>
      this.stopped(worker, new Error(`the thread exited with code ${code}`)),
    );
    return worker;
  }

  private received(message: FromShadowWorker): void {
    if (message.kind === "closed") return this.onClosed?.();
    const { ids, statuses, contentTypes, errors, codes, ends, bytes } = message;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const receiver = this.pending.get(id);
      if (receiver === undefined) continue;
      this.pending.delete(id);
      const status = statuses[i]!;
      if (status === 0) {
        receiver.failed(new ShadowWorkerError(errors[i] ?? "the call failed", codes[i] ?? undefined));
      } else {
        receiver.answered({
          status,
          contentType: contentTypes[i] ?? undefined,
          body: unpacked(bytes, ends, i),
        });
      }
    }
  }

  // The thread failed (or ended while closing): its calls in flight fail; the next turn with calls starts another.
  private stopped(worker: Worker, error: Error): void {
    if (worker !== this.current) return;
    this.current = undefined;
    void worker.terminate();
    const calls = this.pending.size;
    const pending = [...this.pending.values()];
    this.pending.clear();
    if (this.closed) {
      failEach(pending, this.unavailable());
      return this.onClosed?.();
    }
    this.logFailure(error, calls);
    failEach(
      pending,
      new ShadowWorkerError(
        `the shadow webhook client's thread stopped: ${error.message}`,
        "SHADOW_WORKER_STOPPED",
      ),
    );
  }

  private logFailure(error: Error, calls: number): void {
    this.logger.error(
      { event: "shadow_worker_failed", error: error.message, calls_failed: calls },
      "the shadow webhook client's thread failed: its calls in flight count as result=error (with " +
        "SHADOW_ANSWER=shadow, answered 500); a new thread starts with the next call, at most once a second",
    );
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  // The gathered calls still sent; the thread's pool closed (its last answers come before `closed`), then ended.
  private async shutDown(): Promise<void> {
    this.closed = true;
    this.flush();
    const worker = this.current;
    if (worker === undefined) return;
    worker.ref();
    await new Promise<void>((resolve) => {
      this.onClosed = resolve;
      worker.postMessage({ kind: "close" } satisfies ToShadowWorker);
    });
    this.current = undefined;
    await worker.terminate();
    const pending = [...this.pending.values()];
    this.pending.clear();
    failEach(pending, this.unavailable());
  }
}

function failEach(receivers: readonly ShadowReceiver[], error: Error): void {
  for (const receiver of receivers) receiver.failed(error);
}

let entry: { readonly code: string | URL; readonly eval: boolean } | undefined;

// From the bundle, shadow-worker.js at dist/'s top level, where build.mjs also puts every chunk (and checks it).
// From the sources (`npm start`, the tests) shadow-worker.ts beside this file, compiled by tsx's require hook:
// Node 20 applies no module loader hooks (`--import tsx`) in a worker thread.
function workerEntry(): { readonly code: string | URL; readonly eval: boolean } {
  if (entry) return entry;
  if (!import.meta.url.endsWith(".ts")) {
    entry = { code: new URL("./shadow-worker.js", import.meta.url), eval: false };
    return entry;
  }
  const tsx = createRequire(import.meta.url).resolve("tsx/cjs/api");
  const source = fileURLToPath(new URL("./shadow-worker.ts", import.meta.url));
  entry = {
    code: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(source)});`,
    eval: true,
  };
  return entry;
}
