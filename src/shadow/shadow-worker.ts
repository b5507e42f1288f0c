/**
 * The shadow client's thread (started by shadow-worker-client.ts): makes the calls to the previous webhook with
 * undici (shadowClient: its timeouts, answer size limit and Basic authorization) off the thread that answers Hasura,
 * and sends their answers back, those gathered within `gatherMs` (0: one event-loop turn) in one message.
 */
import { parentPort, workerData, type MessagePort } from "node:worker_threads";
import type { AnswerBatch, FromShadowWorker, ShadowWorkerData, ToShadowWorker } from "./shadow-batch.js";
import { pack, scheduleFlush, unpacked } from "./shadow-batch.js";
import { shadowClient, type ShadowAnswer, type ShadowReceiver } from "./shadow-client.js";

/** The answers gathered for one message. */
class Replies {
  private ids: number[] = [];
  private statuses: number[] = [];
  private contentTypes: (string | null)[] = [];
  private errors: (string | null)[] = [];
  private codes: (string | null)[] = [];
  private bodies: Buffer[] = [];
  private size = 0;
  private scheduled = false;

  constructor(
    private readonly port: MessagePort,
    private readonly gatherMs: number,
  ) {}

  add(id: number, status: number, contentType: string | null, body: Buffer, error: Error | null): void {
    this.ids.push(id);
    this.statuses.push(status);
    this.contentTypes.push(contentType);
    this.errors.push(error === null ? null : error.message);
    this.codes.push(error === null ? null : codeOf(error));
    this.bodies.push(body);
    this.size += body.length;
    if (this.scheduled) return;
    this.scheduled = true;
    scheduleFlush(this.gatherMs, this.flush);
  }

  readonly flush = (): void => {
    this.scheduled = false;
    if (this.ids.length === 0) return;
    const { ends, bytes } = pack(this.bodies, this.size);
    const batch: AnswerBatch = {
      kind: "answers",
      ids: this.ids,
      statuses: this.statuses,
      contentTypes: this.contentTypes,
      errors: this.errors,
      codes: this.codes,
      ends,
      bytes,
    };
    this.ids = [];
    this.statuses = [];
    this.contentTypes = [];
    this.errors = [];
    this.codes = [];
    this.bodies = [];
    this.size = 0;
    this.port.postMessage(batch satisfies FromShadowWorker, [bytes]);
  };
}

const EMPTY = Buffer.alloc(0);

// One call's receiver: its id, for the answer batch.
class Reply implements ShadowReceiver {
  constructor(
    private readonly replies: Replies,
    private readonly id: number,
  ) {}

  answered(answer: ShadowAnswer): void {
    this.replies.add(this.id, answer.status, answer.contentType ?? null, answer.body, null);
  }

  failed(error: Error): void {
    this.replies.add(this.id, 0, null, EMPTY, error);
  }
}

function codeOf(error: Error): string | null {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : null;
}

function readWorkerData(data: unknown): ShadowWorkerData {
  const { url, timeoutMs, connections, gatherMs } = (data ?? {}) as Partial<
    Record<keyof ShadowWorkerData, unknown>
  >;
  if (typeof url !== "string") throw new Error("shadow worker: workerData.url must be a string");
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0))
    throw new Error("shadow worker: workerData.timeoutMs must be a positive number");
  if (typeof connections !== "number" || !Number.isInteger(connections) || connections < 1)
    throw new Error("shadow worker: workerData.connections must be a positive integer");
  if (typeof gatherMs !== "number" || !(gatherMs >= 0))
    throw new Error("shadow worker: workerData.gatherMs must be a number, 0 or more");
  return { url, timeoutMs, connections, gatherMs };
}

function serve(port: MessagePort, { url, timeoutMs, connections, gatherMs }: ShadowWorkerData): void {
  const client = shadowClient(url, timeoutMs, connections);
  const replies = new Replies(port, gatherMs);
  port.on("message", (message: ToShadowWorker) => {
    if (message.kind === "close") {
      // A close that fails leaves nothing to wait for: the thread is ended after `closed` either way.
      void client
        .close()
        .catch(() => undefined)
        .then(() => {
          replies.flush();
          port.postMessage({ kind: "closed" } satisfies FromShadowWorker);
        });
      return;
    }
    const { first, ends, bytes } = message;
    // Each body copied out of the batch, so that a call's body is freed when that call ends, not its batch's last.
    for (let i = 0; i < ends.length; i++)
      client.post(Buffer.from(unpacked(bytes, ends, i)), new Reply(replies, first + i));
  });
}

if (parentPort === null)
  throw new Error("shadow-worker.ts runs as a worker thread (shadow-worker-client.ts)");
serve(parentPort, readWorkerData(workerData));
