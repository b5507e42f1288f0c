import { Pool, type Dispatcher } from "undici";

/** The previous service's answer, as received. */
export interface ShadowAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Told how one call ended: exactly one of the two is called. */
export interface ShadowReceiver {
  answered(answer: ShadowAnswer): void;
  failed(error: Error): void;
}

/** Posts Hasura's body to the previous webhook; `receiver` learns how it ended. */
export type ShadowPost = (body: Buffer, receiver: ShadowReceiver) => void;

/** Its answers are a few dozen bytes; a larger one is not a webhook answer and is not read further. */
export const MAX_SHADOW_ANSWER_BYTES = 64 * 1024;

const HEADERS = { "content-type": "application/json" };

/**
 * Posts over at most `connections` kept-alive connections (undici's pool: a call costs a third of node:http's
 * ClientRequest, measured on the bench's shadow scenario), gives up when headers or a body chunk take longer than
 * `timeoutMs` (undici's own coarse timers, not one timer per call), reads at most MAX_SHADOW_ANSWER_BYTES.
 */
export function shadowClient(
  url: string,
  timeoutMs: number,
  connections: number,
): { post: ShadowPost; close(): Promise<void> } {
  const target = new URL(url);
  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs },
    maxResponseSize: MAX_SHADOW_ANSWER_BYTES,
  });
  const path = target.pathname + target.search;
  const post: ShadowPost = (body, receiver) => {
    pool.dispatch({ path, method: "POST", headers: HEADERS, body }, new Exchange(receiver));
  };
  return { post, close: () => pool.close() };
}

// One call's answer as undici delivers it: no stream and no promise per call, only this object.
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private contentType: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;

  constructor(private readonly receiver: ShadowReceiver) {}

  onConnect(): void {}

  onHeaders(status: number, rawHeaders: Buffer[]): boolean {
    this.status = status;
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      const name = rawHeaders[i]!;
      if (name.length === 12 && name.toString("latin1").toLowerCase() === "content-type") {
        this.contentType = rawHeaders[i + 1]!.toString("latin1");
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    if (this.done) return;
    this.done = true;
    if (this.size > MAX_SHADOW_ANSWER_BYTES) {
      this.receiver.failed(new Error(`answer over ${MAX_SHADOW_ANSWER_BYTES} bytes`));
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.receiver.answered({ status: this.status, contentType: this.contentType, body });
  }

  onError(error: Error): void {
    if (this.done) return;
    this.done = true;
    this.receiver.failed(error);
  }
}
