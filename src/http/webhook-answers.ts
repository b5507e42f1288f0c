import type { ServerResponse } from "node:http";
import type { AuthorizationResult } from "../core/authorizer.js";
import type { AnswerSender } from "../shadow/shadow-mode.js";
import { httpDate } from "./http-date.js";
import { sendJson, sendSystemError } from "./json-response.js";
import { toHttpStatus } from "./status.js";

// The webhook's answers in Hasura's shapes: 200 with the session variables, 401 "Unauthorized", 400 or 413 with
// {"errors": [...]}, and 500 {"error": "System error"} for anything else, never its details.

/** Sends the answer to a decision. */
export function sendResult(res: ServerResponse, result: AuthorizationResult): void {
  if (result.outcome === "allow") sendJson(res, 200, allowed(result));
  else if (result.outcome === "deny") sendJson(res, 401, "Unauthorized");
  else sendFailure(res, result.error);
}

/** The status sendResult answers `result` with. */
export function statusOf(result: AuthorizationResult): number {
  if (result.outcome === "allow") return 200;
  return result.outcome === "deny" ? 401 : failureStatus(result.error);
}

/** Hasura's contract: 400 with errors for a bad request, 401 denies, anything else fails the client request. */
export function sendFailure(res: ServerResponse, error: unknown): void {
  const status = failureStatus(error);
  if (status === 400 || status === 413) {
    sendJson(res, status, { errors: [error instanceof Error ? error.message : String(error)] });
  } else if (status === 401) {
    sendJson(res, 401, "Unauthorized");
  } else {
    sendSystemError(res);
  }
}

/** The status sendFailure answers `error` with. */
export function failureStatus(error: unknown): 400 | 401 | 413 | 500 {
  const status = toHttpStatus(error);
  return status === 400 || status === 401 || status === 413 ? status : 500;
}

/** Shadow mode sends this side's answer, or the previous service's as received. */
export function sender(res: ServerResponse, self: () => void): AnswerSender {
  return {
    self,
    relay(status, contentType, body) {
      res.writeHead(status, {
        "content-type": contentType ?? "application/octet-stream",
        "content-length": body.length,
      });
      res.end(body);
    },
  };
}

/**
 * The 200 body: the session variables and, for a websocket's connection_init only, `Expires` — the key Hasura
 * reads to end the websocket's session. Ordinary requests carry no expiry: Hasura's enterprise edition would cache
 * the answer until then, and a revoked grant would wait for the cache.
 */
function allowed(result: AuthorizationResult): Record<string, string | undefined> {
  const body = { "X-Hasura-User-Id": result.user, "X-Hasura-Role": result.role };
  if (result.sessionEndsAt === undefined) return body;
  return { ...body, Expires: httpDate(result.sessionEndsAt) };
}
