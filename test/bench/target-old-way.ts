/** The previous service's flow (old-way.ts) behind an express webhook, in its own process. */
import express from "express";
import { listen } from "../../src/wiring/listen.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { createOldWayDecider } from "./old-way.js";

try {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const decide = createOldWayDecider({
    graphqlUrl: env("OLD_WAY_GRAPHQL_URL"),
    adminSecret: env("OLD_WAY_ADMIN_SECRET"),
    jwksUrl: env("OLD_WAY_JWKS_URL"),
    issuer: env("OLD_WAY_ISSUER"),
    audience: env("OLD_WAY_AUDIENCE"),
    prefix: "rolemapping_",
  });
  const app = express();
  app.disable("x-powered-by");
  app.post("/v1/authenticate", express.json({ limit: 1024 * 1024, type: () => true }), (req, res) => {
    decide(req.body).then(
      (answer) => {
        if ("role" in answer) res.json({ "X-Hasura-User-Id": answer.user, "X-Hasura-Role": answer.role });
        else res.status(401).json("Unauthorized");
      },
      () => res.status(401).json("Unauthorized"),
    );
  });
  const listening = await listen(app, "127.0.0.1", 0);
  serveUntilStopped({ port: listening.port }, () => listening.close(1000));
} catch (error) {
  reportFailure(error);
}
