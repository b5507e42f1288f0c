import type { Response } from "express";
import { ConflictError, isCoreError } from "../core/errors.js";
import { toHttpStatus } from "./status.js";

/**
 * Sends a failure in the bodies the previous provisioner parses: 400/413 `{"errors": [...]}`, 404 a JSON string,
 * 401 "Unauthorized", 5xx `{"error": ...}` — the status always from toHttpStatus. `notFound` replaces the 404
 * message where the previous service worded it otherwise. Anything the core did not raise is a 500 saying nothing.
 */
export function sendRestFailure(res: Response, error: unknown, notFound?: string): void {
  const status = toHttpStatus(error);
  if (!isCoreError(error)) {
    res.status(500).json({ error: "System error" });
    return;
  }
  // A clash names the key it happened on, as the gRPC form does.
  const message = error instanceof ConflictError ? `${error.kind}: ${error.message}` : error.message;
  switch (status) {
    case 401:
      res.status(401).set("WWW-Authenticate", 'Bearer realm="rolemapper"').json("Unauthorized");
      return;
    case 404:
      res.status(404).json(notFound ?? message);
      return;
    case 400:
    case 413:
      res.status(status).json({ errors: [message] });
      return;
    default:
      res.status(status).json({ error: message });
  }
}
