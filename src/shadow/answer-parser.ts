import { MAX_SHADOW_ANSWER_BYTES, ShadowAnswerError, type ShadowAnswer } from "./shadow-call.js";

/** Node's own bound on an answer's status line and headers (--max-http-header-size). */
export const MAX_HEAD_BYTES = 16 * 1024;
// A chunk-size line or a trailer line longer than this is not one a webhook sends.
const MAX_LINE_BYTES = 1024;
const CRLF = Buffer.from("\r\n");
const END_OF_HEAD = Buffer.from("\r\n\r\n");

/** How the body's end is known (RFC 9112 §6.3): its length, its chunks, or the connection's close. */
type Framing = "head" | "length" | "chunked" | "close";
type ChunkStep = "size" | "data" | "data-end" | "trailer";

/** A parsed answer and whether its connection can carry the next call. */
export interface ParsedAnswer {
  readonly answer: ShadowAnswer;
  readonly reusable: boolean;
  /** How long the other side keeps the connection idle (`Keep-Alive: timeout=N`), when it says. */
  readonly idleTimeoutMs: number | undefined;
}

/**
 * Reads one HTTP/1.1 answer from a connection's bytes as they come, split anywhere: a length, chunked or
 * close-delimited body, informational (1xx) answers skipped, at most MAX_HEAD_BYTES of head and
 * MAX_SHADOW_ANSWER_BYTES of body. Throws a ShadowAnswerError on anything else.
 */
export class AnswerParser {
  private pending: Buffer = Buffer.alloc(0);
  private framing: Framing = "head";
  private chunkStep: ChunkStep = "size";
  private remaining = 0;
  private status = 0;
  private contentType: string | undefined;
  private keepAlive = true;
  private idleTimeoutMs: number | undefined;
  private readonly body: Buffer[] = [];
  private size = 0;

  /** Takes the next bytes; the answer once it is complete, else undefined. */
  push(chunk: Buffer): ParsedAnswer | undefined {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    if (this.framing === "head" && !this.readHead()) return undefined;
    if (this.framing === "length") return this.readLength();
    if (this.framing === "chunked") return this.readChunks();
    this.take(this.pending);
    this.pending = Buffer.alloc(0);
    return undefined;
  }

  /** The connection ended: the answer if its body runs to the close, else an error. */
  end(): ParsedAnswer {
    if (this.framing === "close") return this.complete(false);
    throw new ShadowAnswerError("SHADOW_BAD_ANSWER", "the connection closed before the answer ended");
  }

  // Consumes heads until a final (non-1xx) one; false while it is incomplete.
  private readHead(): boolean {
    for (;;) {
      const end = this.pending.indexOf(END_OF_HEAD);
      if (end < 0) {
        if (this.pending.length > MAX_HEAD_BYTES) throw bad(`an answer head over ${MAX_HEAD_BYTES} bytes`);
        return false;
      }
      if (end > MAX_HEAD_BYTES) throw bad(`an answer head over ${MAX_HEAD_BYTES} bytes`);
      const head = this.pending.toString("latin1", 0, end);
      this.pending = this.pending.subarray(end + END_OF_HEAD.length);
      if (this.readStatus(head)) return true;
    }
  }

  // The status line and the headers that matter here; false for an informational answer, skipped.
  private readStatus(head: string): boolean {
    const lines = head.split("\r\n");
    const match = /^HTTP\/1\.([01]) ([1-5]\d\d)(?: |$)/.exec(lines[0] ?? "");
    if (!match) throw bad("not an HTTP/1.x status line");
    const status = Number(match[2]);
    if (status === 101) throw bad("a protocol switch");
    if (status < 200) return false;
    this.status = status;
    this.keepAlive = match[1] === "1";
    let length: string | undefined;
    let encoding: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw bad("a malformed header line");
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-type") this.contentType = value;
      else if (name === "connection") this.keepAlive = connectionKeepsAlive(value, this.keepAlive);
      else if (name === "transfer-encoding")
        encoding = encoding === undefined ? value : `${encoding}, ${value}`;
      else if (name === "content-length") length = sameLength(length, value);
      else if (name === "keep-alive") this.idleTimeoutMs = idleTimeout(value);
    }
    this.frame(status, length, encoding);
    return true;
  }

  private frame(status: number, length: string | undefined, encoding: string | undefined): void {
    if (status === 204 || status === 304) {
      this.framing = "length";
      this.remaining = 0;
    } else if (encoding !== undefined) {
      this.framing = /(?:^|,)\s*chunked\s*$/i.test(encoding) ? "chunked" : "close";
    } else if (length !== undefined) {
      this.framing = "length";
      this.remaining = Number(length);
      if (this.remaining > MAX_SHADOW_ANSWER_BYTES) throw tooLarge();
    } else {
      this.framing = "close";
    }
  }

  private readLength(): ParsedAnswer | undefined {
    const part = this.pending.subarray(0, this.remaining);
    this.take(part);
    this.remaining -= part.length;
    this.pending = this.pending.subarray(part.length);
    return this.remaining === 0 ? this.complete(this.keepAlive && this.pending.length === 0) : undefined;
  }

  // Chunk by chunk (RFC 9112 §7.1): a hex size line (extensions ignored), its data and CRLF, trailers to an empty line.
  private readChunks(): ParsedAnswer | undefined {
    for (;;) {
      if (this.chunkStep === "data") {
        const part = this.pending.subarray(0, this.remaining);
        this.take(part);
        this.remaining -= part.length;
        this.pending = this.pending.subarray(part.length);
        if (this.remaining > 0) return undefined;
        this.chunkStep = "data-end";
        continue;
      }
      const line = this.line();
      if (line === undefined) return undefined;
      if (this.chunkStep === "data-end") {
        if (line.length > 0) throw bad("chunk data longer than its size");
        this.chunkStep = "size";
      } else if (this.chunkStep === "size") {
        this.chunkSize(line);
      } else if (line.length === 0) {
        return this.complete(this.keepAlive && this.pending.length === 0);
      }
    }
  }

  private chunkSize(line: string): void {
    const hex = line.split(";", 1)[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(hex)) throw bad("a malformed chunk size");
    const size = parseInt(hex, 16);
    if (this.size + size > MAX_SHADOW_ANSWER_BYTES) throw tooLarge();
    this.remaining = size;
    this.chunkStep = size === 0 ? "trailer" : "data";
  }

  // The next CRLF-ended line of the pending bytes, consumed; undefined until it is complete.
  private line(): string | undefined {
    const end = this.pending.indexOf(CRLF);
    if (end < 0) {
      if (this.pending.length > MAX_LINE_BYTES) throw bad("a chunk line too long");
      return undefined;
    }
    if (end > MAX_LINE_BYTES) throw bad("a chunk line too long");
    const line = this.pending.toString("latin1", 0, end);
    this.pending = this.pending.subarray(end + CRLF.length);
    return line;
  }

  private take(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.size > MAX_SHADOW_ANSWER_BYTES) throw tooLarge();
    this.body.push(part);
  }

  private complete(reusable: boolean): ParsedAnswer {
    const body = this.body.length === 1 ? this.body[0]! : Buffer.concat(this.body);
    const answer = { status: this.status, contentType: this.contentType, body };
    return { answer, reusable, idleTimeoutMs: this.idleTimeoutMs };
  }
}

function connectionKeepsAlive(value: string, otherwise: boolean): boolean {
  const options = value
    .toLowerCase()
    .split(",")
    .map((option) => option.trim());
  if (options.includes("close")) return false;
  return options.includes("keep-alive") ? true : otherwise;
}

function idleTimeout(value: string): number | undefined {
  const seconds = /(?:^|[,;\s])timeout=(\d{1,6})/i.exec(value)?.[1];
  return seconds === undefined ? undefined : Number(seconds) * 1000;
}

// Repeated lengths must agree (RFC 9112 §6.3): two different ones leave the body's end unknown.
function sameLength(previous: string | undefined, value: string): string {
  const length = value.split(",")[0]!.trim();
  if (!/^\d{1,15}$/.test(length) || value.split(",").some((part) => part.trim() !== length))
    throw bad("a malformed content-length");
  if (previous !== undefined && previous !== length) throw bad("two different content-lengths");
  return length;
}

function bad(what: string): ShadowAnswerError {
  return new ShadowAnswerError("SHADOW_BAD_ANSWER", `the shadow webhook sent ${what}`);
}

function tooLarge(): ShadowAnswerError {
  return new ShadowAnswerError("SHADOW_ANSWER_TOO_LARGE", `answer over ${MAX_SHADOW_ANSWER_BYTES} bytes`);
}
