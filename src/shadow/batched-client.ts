import { connect, type Socket } from "node:net";
import { AnswerParser, type ParsedAnswer } from "./answer-parser.js";
import { ShadowTimeoutError, type ShadowPost, type ShadowReceiver } from "./shadow-call.js";

/** Longest a call waits to be sent with the calls made after it (a quarter of the timeout when that is shorter). */
export const BATCH_WINDOW_MS = 10;
/**
 * An idle connection is closed after this (undici's default), or a second before the other side's `Keep-Alive:
 * timeout`, so a call is rarely sent on a connection the other side is closing.
 */
const IDLE_CLOSE_MS = 4_000;

/**
 * Posts over plain HTTP/1.1 to an `http:` URL, for comparisons made after this side has answered, where a call can
 * wait: calls made within BATCH_WINDOW_MS are sent together, so they share one event-loop wake-up and one deadline
 * timer, and their answers, arriving together, share the wake-ups that read them. Each call has a kept-alive
 * connection to itself (at most `connections`, no pipelining: the previous service answers them in parallel as
 * before, and a connection's failure fails one call). A batch's deadline is `timeoutMs` after its first call: no
 * call waits longer than that, from its call to the last byte of its answer. On this machine's bench, a call cost
 * a third of undici's (whose request machinery, not the HTTP exchange, was most of a comparison's CPU).
 */
export function batchedClient(
  url: string,
  timeoutMs: number,
  connections: number,
): { post: ShadowPost; close(): Promise<void> } {
  const sender = new BatchSender(new URL(url), timeoutMs, connections);
  return { post: (body, receiver) => sender.post(body, receiver), close: () => sender.close() };
}

// One call: the body until it is written, and how it ends (once).
class Call {
  done = false;
  connection: Connection | undefined;
  constructor(
    readonly body: Buffer,
    readonly receiver: ShadowReceiver,
    readonly batch: Batch,
  ) {}
}

// Calls sent together, under one deadline; it is cleared when the last of them ends.
class Batch {
  readonly calls: Call[] = [];
  open = 0;
  sent = false;
  deadline: NodeJS.Timeout | undefined;
}

class BatchSender {
  private forming: Batch | undefined;
  private readonly idle: Connection[] = [];
  private readonly waiting: Call[] = [];
  private connectionCount = 0;
  private active = 0;
  private closing: (() => void) | undefined;
  private closed = false;
  private readonly windowMs: number;
  private readonly head: string;

  constructor(
    private readonly target: URL,
    private readonly timeoutMs: number,
    private readonly maxConnections: number,
  ) {
    this.windowMs = Math.min(BATCH_WINDOW_MS, timeoutMs / 4);
    this.head = requestHead(target);
  }

  post(body: Buffer, receiver: ShadowReceiver): void {
    if (this.closed) return receiver.failed(new Error("the shadow client is closed"));
    let batch = this.forming;
    if (batch === undefined) {
      batch = this.forming = new Batch();
      batch.deadline = setTimeout(() => this.expire(batch!), this.timeoutMs);
      setTimeout(() => this.flush(batch!), this.windowMs);
    }
    batch.calls.push(new Call(body, receiver, batch));
    batch.open++;
    this.active++;
  }

  // Sends a batch's calls, each on an idle connection, a new one, or (all `connections` busy) when one is released.
  private flush(batch: Batch): void {
    if (this.forming === batch) this.forming = undefined;
    if (batch.sent) return;
    batch.sent = true;
    for (const call of batch.calls) {
      if (call.done) continue;
      const connection = this.takeIdle() ?? this.open();
      if (connection) connection.send(call, this.head);
      else this.waiting.push(call);
    }
  }

  // The most recently used idle connection the other side has not begun to close.
  private takeIdle(): Connection | undefined {
    for (let connection = this.idle.pop(); connection; connection = this.idle.pop()) {
      if (connection.usable) return connection;
    }
    return undefined;
  }

  private open(): Connection | undefined {
    if (this.connectionCount >= this.maxConnections) return undefined;
    this.connectionCount++;
    return new Connection(this, this.target);
  }

  // Every call of the batch not ended yet fails; a connection a call was using is closed with it.
  private expire(batch: Batch): void {
    batch.deadline = undefined;
    for (const call of batch.calls) {
      if (call.done) continue;
      const connection = call.connection;
      this.end(call, undefined, new ShadowTimeoutError(this.timeoutMs));
      connection?.destroy();
    }
  }

  /** A call ended, with its answer or an error: its receiver is told, once. */
  end(call: Call, answer: ParsedAnswer | undefined, error: Error | undefined): void {
    if (call.done) return;
    call.done = true;
    call.connection = undefined;
    if (--call.batch.open === 0 && call.batch.deadline) clearTimeout(call.batch.deadline);
    if (--this.active === 0) this.closing?.();
    if (answer) call.receiver.answered(answer.answer);
    else call.receiver.failed(error ?? new Error("the shadow call failed"));
  }

  /** A connection can carry the next call: a waiting one, or it stays idle. */
  release(connection: Connection): void {
    if (!connection.usable) return connection.destroy();
    for (let call = this.waiting.shift(); call; call = this.waiting.shift()) {
      if (!call.done) return connection.send(call, this.head);
    }
    if (this.closed) return connection.destroy();
    this.idle.push(connection);
  }

  /** A connection closed: it is counted no more, and a call waiting for one gets a new one. */
  lost(connection: Connection): void {
    this.connectionCount--;
    const at = this.idle.indexOf(connection);
    if (at >= 0) this.idle.splice(at, 1);
    if (this.closed || !this.waiting.some((call) => !call.done)) return;
    const fresh = this.open();
    if (fresh) this.release(fresh);
  }

  /** Sends what is forming now, waits for every call to end (each within its deadline), then closes. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.forming) this.flush(this.forming);
    if (this.active > 0) await new Promise<void>((resolve) => (this.closing = resolve));
    for (const connection of this.idle.splice(0)) connection.destroy();
  }
}

// One kept-alive connection, carrying one call at a time.
class Connection {
  /** False from the moment either side begins to close it: no call is sent on it then. */
  usable = true;
  private readonly socket: Socket;
  private call: Call | undefined;
  private parser: AnswerParser | undefined;
  private error: Error | undefined;
  private idleMs = 0;

  constructor(
    private readonly sender: BatchSender,
    target: URL,
  ) {
    this.socket = connect({ host: target.hostname.replace(/^\[|\]$/g, ""), port: Number(target.port || 80) });
    this.socket.setNoDelay(true);
    this.socket.on("data", (chunk: Buffer) => this.read(chunk));
    this.socket.on("end", () => this.ended());
    this.socket.on("error", (error) => {
      this.usable = false;
      this.error = error;
    });
    this.socket.on("close", () => this.closed());
    this.socket.on("timeout", () => {
      if (!this.call) this.destroy();
    });
  }

  send(call: Call, head: string): void {
    this.call = call;
    call.connection = this;
    this.parser = new AnswerParser();
    this.socket.write(request(head, call.body));
  }

  destroy(): void {
    this.usable = false;
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    const call = this.call;
    if (!call || !this.parser) return this.destroy(); // bytes nobody asked for: the connection is not trusted further
    let parsed: ParsedAnswer | undefined;
    try {
      parsed = this.parser.push(chunk);
    } catch (error) {
      return this.fail(call, error as Error);
    }
    if (parsed) this.answered(call, parsed);
  }

  // The answer is complete: the connection is released (or closed) before the receiver runs.
  private answered(call: Call, parsed: ParsedAnswer): void {
    this.call = undefined;
    this.parser = undefined;
    if (!parsed.reusable) this.destroy();
    else {
      const idleMs = Math.max(1_000, Math.min(IDLE_CLOSE_MS, (parsed.idleTimeoutMs ?? Infinity) - 1_000));
      if (idleMs !== this.idleMs) this.socket.setTimeout((this.idleMs = idleMs));
      this.sender.release(this);
    }
    this.sender.end(call, parsed, undefined);
  }

  private fail(call: Call, error: Error): void {
    this.call = undefined;
    this.parser = undefined;
    this.destroy();
    this.sender.end(call, undefined, error);
  }

  // The other side ended: an answer whose body runs to the close is complete now; an idle connection is not used
  // again (between this and its close, a call sent on it would be lost).
  private ended(): void {
    this.usable = false;
    const call = this.call;
    if (!call || !this.parser) return;
    let parsed: ParsedAnswer;
    try {
      parsed = this.parser.end();
    } catch (error) {
      return this.fail(call, error as Error);
    }
    this.answered(call, parsed);
  }

  private closed(): void {
    const call = this.call;
    this.call = undefined;
    this.sender.lost(this);
    if (call)
      this.sender.end(call, undefined, this.error ?? new Error("the shadow webhook closed the connection"));
  }
}

// The request's head up to the length: the same for every call (Basic authorization from the URL's user and
// password, percent-decoded as node:http did).
function requestHead(target: URL): string {
  let head = `POST ${target.pathname}${target.search} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  head += "content-type: application/json\r\n";
  if (target.username !== "" || target.password !== "") {
    const credentials = `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`;
    head += `authorization: Basic ${Buffer.from(credentials).toString("base64")}\r\n`;
  }
  return `${head}content-length: `;
}

// Head and body in one buffer: one write, one segment for a small body.
function request(head: string, body: Buffer): Buffer {
  const start = `${head}${body.length}\r\n\r\n`;
  const bytes = Buffer.allocUnsafe(Buffer.byteLength(start, "latin1") + body.length);
  const at = bytes.write(start, "latin1");
  body.copy(bytes, at);
  return bytes;
}
