import type { ServerResponse } from "node:http";
import { sendJson } from "./json-response.js";

/** A probe's answer: the status and the JSON body. */
interface HealthAnswer {
  readonly status: number;
  readonly body: unknown;
}

/**
 * The answer of a health route, or undefined for any other path: `/v1/health` (the old service's route, kept for
 * existing checks), `/healthz` (process up), `/readyz` (store reachable, snapshot loaded). Every listener serves
 * them alike, whatever serves its other routes.
 */
function healthAnswer(path: string, ready: () => boolean): HealthAnswer | undefined {
  switch (path) {
    case "/v1/health":
      return { status: 200, body: "Alive" };
    case "/healthz":
      return { status: 200, body: { status: "ok" } };
    case "/readyz":
      return ready()
        ? { status: 200, body: { status: "ready" } }
        : { status: 503, body: { status: "not ready" } };
    default:
      return undefined;
  }
}

/** Answers a health route's GET or HEAD (`path` as routePath gives it); false, nothing sent, for any other path. */
export function sendHealth(res: ServerResponse, path: string, ready: () => boolean): boolean {
  const health = healthAnswer(path, ready);
  if (health) sendJson(res, health.status, health.body);
  return health !== undefined;
}
