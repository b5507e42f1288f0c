/**
 * The constant-answer baseline: a bare express server that parses the same webhook body and answers one fixed
 * 200 JSON, on 127.0.0.1 and an ephemeral port like the sidecar's webhook.
 */
import express from "express";
import { listen } from "../../src/wiring/listen.js";
import { reportFailure, serveUntilStopped } from "./child.js";

try {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  const answer = { "X-Hasura-User-Id": "user:person-0_corp.com", "X-Hasura-Role": "sales_dp0_role" };
  app.post("/v1/authenticate", express.json({ limit: 1024 * 1024, type: () => true }), (_req, res) => {
    res.json(answer);
  });
  const listening = await listen(app, "127.0.0.1", 0);
  serveUntilStopped({ port: listening.port }, () => listening.close(1000));
} catch (error) {
  reportFailure(error);
}
