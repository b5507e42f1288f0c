import type { ServerResponse } from "node:http";

/** Answers `status` with `body` as JSON, with the headers express's res.json gave (a HEAD request gets no body). */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Anything unexpected: 500, never the details; a connection whose answer had begun can only be closed. */
export function sendSystemError(res: ServerResponse): void {
  if (res.headersSent) res.destroy();
  else sendJson(res, 500, { error: "System error" });
}
