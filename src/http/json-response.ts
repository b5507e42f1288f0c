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
