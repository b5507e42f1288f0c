import type { ErrorCode } from "../core/errors.js";
import { isCoreError } from "../core/errors.js";

/** The one mapping from the core's error kinds to HTTP status codes; anything unexpected is 500. */
export function toHttpStatus(error: unknown): number {
  if (!isCoreError(error)) return 500;
  return statusOf(error.code);
}

function statusOf(code: ErrorCode): number {
  switch (code) {
    case "invalid_argument":
      return 400;
    case "not_found":
      return 404;
    // The existing provisioner expects a clash on role_id/component_id as 400 with {"errors": [...]}.
    case "conflict":
      return 400;
    case "unauthenticated":
      return 401;
    case "payload_too_large":
      return 413;
    case "unavailable":
      return 503;
    case "deadline_exceeded":
      return 504;
  }
}
