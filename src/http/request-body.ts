import type { IncomingMessage } from "node:http";
import { finished, type Readable, type Transform } from "node:stream";
import { TextDecoder } from "node:util";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import { CoreError, type ErrorCode } from "../core/errors.js";

/** Why a request body was not read: each kind has its own answer. */
export type BodyFailure = "too_large" | "unsupported_encoding" | "undecodable" | "not_json";

/**
 * A request body that could not be read or is not JSON: a core error kind like any other bad input, so that the
 * one error-to-status mapping answers it (413 too large, else 400) on every listener.
 */
export class BodyError extends CoreError {
  readonly code: ErrorCode;

  constructor(
    readonly failure: BodyFailure,
    message: string,
  ) {
    super(message);
    this.name = "BodyError";
    this.code = failure === "too_large" ? "payload_too_large" : "invalid_argument";
  }
}

const INFLATERS: ReadonlyMap<string, () => Transform> = new Map([
  ["gzip", createGunzip],
  ["deflate", createInflate],
  ["br", createBrotliDecompress],
]);
const UTF8_BOM = [0xef, 0xbb, 0xbf];
// A charset parameter of Content-Type, quoted or not; the media type itself is not checked (any is parsed).
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^\s;]+))/i;

/** A request body: its bytes (inflated when it came compressed) and their text. */
export interface RequestBody {
  readonly bytes: Buffer;
  readonly text: string;
}

/**
 * Reads the body of `req`, as body-parser's JSON reader did before: undefined when the request announces
 * no body; inflated when gzip, deflate or br encoded (`limit` counts inflated bytes, so a small compressed body
 * cannot inflate past it); decoded from UTF-8 (a leading BOM dropped) or another `utf-*` charset. Rejects with a
 * BodyError, only once the rest of the request has been read off, so the connection stays usable.
 */
export function readRequestBody(req: IncomingMessage, limit: number): Promise<RequestBody | undefined> {
  if (req.headers["content-length"] === undefined && req.headers["transfer-encoding"] === undefined) {
    return Promise.resolve(undefined);
  }
  let inflater: Transform | undefined;
  let decode: (bytes: Buffer) => string;
  try {
    decode = decoderFor(req.headers["content-type"]);
    inflater = inflaterOf(req);
    const declared = inflater ? NaN : Number(req.headers["content-length"]);
    if (declared > limit) throw tooLarge();
  } catch (error) {
    return refused(req, inflater, error);
  }
  // Chained rather than awaited in an async function: one promise less on the webhook's path.
  return collect(req, inflater ?? req, limit).then(
    (bytes) => ({ bytes, text: decode(bytes) }),
    (error: unknown) => refused(req, inflater, error),
  );
}

// Stops inflating, reads off the rest of the request, then rejects with `error`.
async function refused(
  req: IncomingMessage,
  inflater: Transform | undefined,
  error: unknown,
): Promise<never> {
  if (inflater) {
    req.unpipe(inflater);
    inflater.destroy();
  }
  await readOff(req);
  throw error;
}

/**
 * Parses body text as JSON the strict way: an object or an array at the top (`"hello"` or `5` alone is not a
 * webhook body); an empty body is `{}`, as body-parser made it.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return {};
  const first = text[0] === "{" ? "{" : /[^\x20\t\n\r]/.exec(text)?.[0];
  if (first !== "{" && first !== "[") throw notJson();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw notJson();
  }
}

/**
 * The JSON body of a REST request, read as body-parser's JSON reader with `strict: false` did: any JSON value
 * (the route checks its shape), `{}` for an empty body, undefined when the request announces none.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readRequestBody(req, limit);
  if (body === undefined) return undefined;
  if (body.text.length === 0) return {};
  try {
    return JSON.parse(body.text) as unknown;
  } catch {
    throw notJson();
  }
}

function decoderFor(contentType: string | undefined): (bytes: Buffer) => string {
  // Without a parameter there is no charset to read: Hasura's `application/json` skips the expression.
  const match = contentType === undefined || !contentType.includes(";") ? null : CHARSET.exec(contentType);
  const charset = (match?.[1] ?? match?.[2] ?? "utf-8").toLowerCase();
  // JSON is Unicode (RFC 8259): a charset outside the UTF family is refused, never guessed.
  if (!charset.startsWith("utf-")) throw unsupported();
  if (charset === "utf-8") return decodeUtf8;
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(charset);
  } catch {
    throw unsupported();
  }
  return (bytes) => decoder.decode(bytes);
}

function decodeUtf8(bytes: Buffer): string {
  const bom = bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2];
  return bytes.toString("utf8", bom ? UTF8_BOM.length : 0);
}

// The stream inflating a compressed body, piped from `req`; undefined for an uncompressed one.
function inflaterOf(req: IncomingMessage): Transform | undefined {
  const encoding = (req.headers["content-encoding"] ?? "identity").toLowerCase();
  if (encoding === "identity") return undefined;
  const inflater = INFLATERS.get(encoding)?.();
  if (!inflater) throw unsupported();
  req.pipe(inflater);
  return inflater;
}

// The bytes of `source` (the request, or what inflates it) until its end; rejects as soon as they pass `limit`,
// when the stream fails, or when the request is cut short. The first of these settles it and the others are then
// ignored: plain listeners, left on objects that live as long as the request, cost less than once() and off().
function collect(req: IncomingMessage, source: Readable, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const stop = (error: BodyError) => {
      if (settled) return;
      settled = true;
      source.off("data", onData);
      source.pause();
      reject(error);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) stop(tooLarge());
      else chunks.push(chunk);
    };
    source.on("data", onData);
    source.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    // A body that does not inflate, or a request whose connection is lost.
    source.on("error", () => stop(undecodable()));
    req.on("close", () => {
      if (!req.complete) stop(undecodable());
    });
  });
}

// Reads and drops what is left of the request, so the answer goes out on a connection still in step.
function readOff(req: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.complete || req.destroyed) {
      resolve();
      return;
    }
    finished(req, () => resolve());
    req.resume();
  });
}

function undecodable(): BodyError {
  return new BodyError("undecodable", "request body cannot be decoded");
}

function tooLarge(): BodyError {
  return new BodyError("too_large", "request body too large");
}

function unsupported(): BodyError {
  return new BodyError("unsupported_encoding", "unsupported body encoding");
}

function notJson(): BodyError {
  return new BodyError("not_json", "request body is not valid JSON");
}
