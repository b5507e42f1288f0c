import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

/** The previous service's answer, as received. */
export interface ShadowAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Posts Hasura's body to the previous webhook. */
export type ShadowPost = (body: Buffer) => Promise<ShadowAnswer>;

/** Its answers are a few dozen bytes; a larger one is not a webhook answer and is not read further. */
export const MAX_SHADOW_ANSWER_BYTES = 64 * 1024;

/** Posts over kept-alive connections, gives up after `timeoutMs`, reads at most MAX_SHADOW_ANSWER_BYTES. */
export function shadowClient(url: string, timeoutMs: number): { post: ShadowPost; close(): void } {
  const target = new URL(url);
  const https = target.protocol === "https:";
  const agent = https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
  const send = https ? httpsRequest : httpRequest;
  const post: ShadowPost = (body) =>
    new Promise<ShadowAnswer>((resolve, reject) => {
      const request = send(target, {
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": body.length },
      });
      const timer = setTimeout(
        () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      request.on("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      request.on("response", (response) => {
        readBounded(response).then((answer) => {
          clearTimeout(timer);
          resolve(answer);
        }, reject);
      });
      request.end(body);
    });
  return { post, close: () => agent.destroy() };
}

// A failure mid-body reaches the request's error handler too; rejecting twice is harmless.
function readBounded(response: IncomingMessage): Promise<ShadowAnswer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_SHADOW_ANSWER_BYTES) {
        response.destroy(new Error(`answer over ${MAX_SHADOW_ANSWER_BYTES} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    response.on("error", reject);
    // A connection closed before the end rejects (a no-op once resolved).
    response.on("close", () => reject(new Error("answer cut short")));
    response.on("end", () => {
      resolve({
        status: response.statusCode ?? 0,
        contentType: response.headers["content-type"],
        body: Buffer.concat(chunks),
      });
    });
  });
}
