import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { DeadlineExceededError, UnavailableError } from "../core/errors.js";

/** What one bounded GET answered. */
export interface HttpGetAnswer {
  readonly status: number;
  /** The body as UTF-8 text; empty unless the status is 200. */
  readonly text: string;
}

/** The bounds of one GET. */
export interface HttpGetOptions {
  /** What is fetched, as error messages name it ("JWKS"). */
  readonly what: string;
  readonly headers: Record<string, string>;
  /** For the whole exchange, the body included. */
  readonly timeoutMs: number;
  /** Longest body read; a longer one is refused. */
  readonly maxBytes: number;
}

/**
 * One GET over node:http(s), redirects not followed (a 3xx is answered as is). Not fetch(): its first call loads
 * Node's bundled undici, some 100 ms of CPU and 10 MB resident, for a request made once every few minutes.
 * Failures become core errors: DeadlineExceededError past the timeout, UnavailableError otherwise.
 */
export function httpGet(url: URL, options: HttpGetOptions): Promise<HttpGetAnswer> {
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const signal = AbortSignal.timeout(options.timeoutMs);
    const fail = (error: unknown) => reject(asCoreError(error, signal, options.what));
    const req = send(url, { headers: options.headers, signal }, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        resolve({ status, text: "" });
        return;
      }
      readBody(res, options).then((text) => resolve({ status, text }), fail);
    });
    req.on("error", fail);
    req.end();
  });
}

function readBody(res: IncomingMessage, { what, maxBytes }: HttpGetOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on("data", (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size <= maxBytes) chunks.push(chunk);
      else res.destroy(new UnavailableError(`${what} response larger than ${maxBytes} bytes`));
    });
    res.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    res.on("error", reject);
    // A connection cut before the body's end is not an answer.
    res.on("aborted", () => reject(new UnavailableError(`${what} response body could not be read`)));
  });
}

function asCoreError(error: unknown, signal: AbortSignal, what: string): Error {
  if (error instanceof UnavailableError) return error;
  if (signal.aborted) return new DeadlineExceededError(`${what} fetch timed out`, { cause: error });
  return new UnavailableError(`${what} could not be fetched`, { cause: error });
}
