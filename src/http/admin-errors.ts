import type { ErrorRequestHandler, Response } from "express";
import { ConflictError, isCoreError } from "../core/errors.js";
import type { CoreLogger } from "../core/identity.js";
import { toHttpStatus } from "./status.js";

/**
 * Sends a failure in the bodies the existing provisioner parses: 400/413 `{"errors": [...]}`, 404 a JSON string,
 * 401 "Unauthorized", 5xx `{"error": ...}` — the status always from toHttpStatus. `notFound` overrides the 404
 * message, where the old service worded it differently.
 */
export function sendAdminFailure(res: Response, error: unknown, logger: CoreLogger, notFound?: string): void {
  const status = toHttpStatus(error);
  if (!isCoreError(error)) {
    logger.error(
      { event: "api_internal_error", transport: "rest", err: describe(error) },
      "unexpected failure in a RoleMapping request",
    );
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

/** body-parser's failures (not JSON, too large, bad encoding) as `{"errors": [...]}`; anything else as a 500. */
export function adminErrorHandler(logger: CoreLogger): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const type = (error as { type?: unknown }).type;
    if (type === "entity.too.large") {
      res.status(413).json({ errors: ["request body too large"] });
    } else if (type === "entity.parse.failed") {
      res.status(400).json({ errors: ["request body is not valid JSON"] });
    } else if (typeof type === "string") {
      res.status(400).json({ errors: [`request body unreadable (${type})`] });
    } else if (isClientError(error)) {
      // A path parameter that is not valid percent-encoding, or a compressed body that does not inflate.
      res.status(400).json({ errors: ["request unreadable: malformed path or body encoding"] });
    } else {
      sendAdminFailure(res, error, logger);
    }
  };
}

// express and body-parser mark failures caused by the request itself with a 4xx `status`.
function isClientError(error: unknown): boolean {
  const status = (error as { status?: unknown } | undefined)?.status;
  return typeof status === "number" && status >= 400 && status < 500;
}

function describe(error: unknown): { message: string; stack?: string | undefined } {
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}
