import { Pool, type Dispatcher } from "undici";
import { batchedClient } from "./batched-client.js";
import {
  MAX_SHADOW_ANSWER_BYTES,
  ShadowTimeoutError,
  type ShadowPost,
  type ShadowReceiver,
} from "./shadow-call.js";

export {
  MAX_SHADOW_ANSWER_BYTES,
  ShadowTimeoutError,
  type ShadowAnswer,
  type ShadowPost,
  type ShadowReceiver,
} from "./shadow-call.js";

/**
 * Posts over at most `connections` kept-alive connections (undici's pool: a call costs a third of node:http's
 * ClientRequest, measured on the bench's shadow scenario), gives up `timeoutMs` after the call was made, whatever
 * it was waiting for (a connection, headers, a slow body), reads at most MAX_SHADOW_ANSWER_BYTES. A user and password
 * in the URL are sent as Basic authorization, as node:http did with them. `batched` (comparisons made after this
 * side's answer, which can wait a few milliseconds) takes the batched client instead for an `http:` URL.
 */
export function shadowClient(
  url: string,
  timeoutMs: number,
  connections: number,
  { batched = false }: { readonly batched?: boolean } = {},
): { post: ShadowPost; close(): Promise<void> } {
  const target = new URL(url);
  if (batched && target.protocol === "http:") return batchedClient(url, timeoutMs, connections);
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
