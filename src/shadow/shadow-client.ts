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

/**
 * Posts over at most `connections` kept-alive connections (undici's pool: a call costs a third of node:http's
 * ClientRequest, measured on the bench's shadow scenario), gives up `timeoutMs` after the call was made, whatever
 * it was waiting for (a connection, headers, a slow body), reads at most MAX_SHADOW_ANSWER_BYTES. A user and password
 * in the URL are sent as Basic authorization, as node:http did with them.
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
    connect: { timeout: timeoutMs },
    maxResponseSize: MAX_SHADOW_ANSWER_BYTES,
  });
  const headers = requestHeaders(target);
  const path = target.pathname + target.search;
  const post: ShadowPost = (body, receiver) => {
    pool.dispatch({ path, method: "POST", headers, body }, new Exchange(receiver, timeoutMs));
  };
  return { post, close: () => pool.close() };
}

// URL credentials are percent-encoded; node:http decoded them the same way before encoding them as Basic.
function requestHeaders(target: URL): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (target.username === "" && target.password === "") return headers;
  const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
  headers.authorization = `Basic ${Buffer.from(credentials).toString("base64")}`;
  return headers;
}

/** How a call ends when its deadline passes first. */
export class ShadowTimeoutError extends Error {
  readonly code = "SHADOW_TIMEOUT";
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

// One call's answer as undici delivers it: no stream and no promise per call, only this object.
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  private contentType: string | undefined;
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private done = false;
  private abort: ((error: Error) => void) | undefined;
  private readonly deadline: NodeJS.Timeout;

  // One deadline for the whole call, from now: queued, connecting, waiting for headers or reading the body.
  constructor(
    private readonly receiver: ShadowReceiver,
    private readonly timeoutMs: number,
  ) {
    this.deadline = setTimeout(() => this.expire(), timeoutMs);
  }

  onConnect(abort: (error: Error) => void): void {
    if (this.done) return abort(new ShadowTimeoutError(this.timeoutMs));
    this.abort = abort;
  }

  // Aborted where undici can (the connection is then closed); failed at once when the call has not started yet.
  private expire(): void {
    if (this.done) return;
    const error = new ShadowTimeoutError(this.timeoutMs);
    if (this.abort) return this.abort(error);
    this.done = true;
    this.receiver.failed(error);
  }

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
    clearTimeout(this.deadline);
    if (this.size > MAX_SHADOW_ANSWER_BYTES) {
      this.receiver.failed(new Error(`answer over ${MAX_SHADOW_ANSWER_BYTES} bytes`));
      return;
    }
    const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.receiver.answered({ status: this.status, contentType: this.contentType, body });
  }

  onError(error: Error): void {
    clearTimeout(this.deadline);
    if (this.done) return;
    this.done = true;
    this.receiver.failed(error);
  }
}
