import {
  ConflictError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
  isCoreError,
} from "../core/errors.js";

// Socket-level failures reported by node (pg) when the server cannot be reached or drops the connection.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
]);

// SQLSTATEs meaning "the server is not there for us right now" (class 08, shutdown, too many connections).
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "53400"]);

// Driver messages without a code: pg after the socket closed or the pool ended, PGlite after close().
const UNAVAILABLE_MESSAGES = [
  /connection terminated/i,
  /connection error/i,
  /not queryable/i,
  /timeout exceeded when trying to connect/i,
  /pool after calling end/i,
  /pglite is closed/i,
];

/** SQLSTATEs after which the whole transaction may simply be run again. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(["40001", "40P01"]);

/** The SQLSTATE (or node error code) of a driver error, if it has one. */
export function sqlState(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/**
 * A driver error turned into the core's error for its failure kind; errors of the core pass through and
 * anything unrecognised is returned unchanged (an unexpected failure the transports never show in detail).
 */
export function toStoreError(error: unknown): unknown {
  if (isCoreError(error)) return error;
  const code = sqlState(error);
  const message = error instanceof Error ? error.message : String(error);
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  switch (code) {
    // A concurrent writer inserted the same key between our check and our insert.
    case "23505":
      return constraint === "roles_component_id_key"
        ? new ConflictError("component_id", "the component already has another role")
        : new ConflictError("role_id", "the role_id is already bound to another component");
    // A concurrent writer deleted the role our rows point to.
    case "23503":
      return new NotFoundError("role not found (deleted concurrently)");
    case "22001":
      return new InvalidArgumentError("value", "longer than the column allows (255 characters)");
    case "57014":
      return new DeadlineExceededError("role mapping store: statement timed out", { cause: error });
    case "40001":
    case "40P01":
      return new UnavailableError("role mapping store busy: concurrent writes kept clashing", {
        cause: error,
      });
  }
  if (
    (code !== undefined &&
      (code.startsWith("08") || UNAVAILABLE_SQLSTATES.has(code) || NETWORK_CODES.has(code))) ||
    UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message))
  ) {
    return new UnavailableError(`role mapping store unavailable: ${message}`, { cause: error });
  }
  return error;
}
