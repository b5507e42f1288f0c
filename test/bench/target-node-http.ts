/**
 * The physical limit of a Node webhook on this machine: a bare node:http server that reads the same webhook
 * body, JSON.parses it and answers one fixed 200 JSON, on 127.0.0.1 and an ephemeral port like the sidecar's.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { listen } from "../../src/wiring/listen.js";
import { reportFailure, serveUntilStopped } from "./child.js";

const ANSWER = JSON.stringify({
  "X-Hasura-User-Id": "user:person-0_corp.com",
  "X-Hasura-Role": "sales_dp0_role",
});

function answer(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    JSON.parse(Buffer.concat(chunks).toString("utf8"));
    res.writeHead(200, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(ANSWER),
    });
    res.end(ANSWER);
  });
}

try {
  const listening = await listen(answer, "127.0.0.1", 0);
  serveUntilStopped({ port: listening.port }, () => listening.close(1000));
} catch (error) {
  reportFailure(error);
}
