import { DeadlineExceededError, UnavailableError, isCoreError } from "../core/errors.js";

/** Reads a response body as text, refusing it once it passes `maxBytes`; read failures become core errors. */
export async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    // Leaving the loop by a throw cancels the stream, so an oversize body is not read to its end.
    for await (const chunk of response.body) {
      size += chunk.byteLength;
      if (size > maxBytes) throw new UnavailableError(`response larger than ${maxBytes} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (isCoreError(error)) throw error;
    if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
      throw new DeadlineExceededError("response body timed out", { cause: error });
    }
    throw new UnavailableError("response body could not be read", { cause: error });
  }
  return Buffer.concat(chunks).toString("utf8");
}
