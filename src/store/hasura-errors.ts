import {
  ConflictError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../core/errors.js";

/** One entry of Hasura's `errors`: `{"message", "extensions": {"path", "code"}}`. */
export interface HasuraErrorEntry {
  readonly message?: string;
  readonly extensions?: { readonly code?: string; readonly path?: string };
}

/** What went wrong with one request, before it is turned into the core's error. */
export type HasuraFailure =
  | { readonly kind: "timeout"; readonly cause: unknown; readonly write: boolean }
  | { readonly kind: "unreachable"; readonly cause: unknown; readonly write: boolean }
  | { readonly kind: "http"; readonly status: number }
  | { readonly kind: "graphql"; readonly errors: readonly HasuraErrorEntry[] };

/** A GraphQL error that only a wrong document or a schema differing from ours can cause: a bug to fix. */
export class HasuraRequestBug extends Error {
  constructor(operation: string, message: string) {
    super(`Hasura rejected ${operation}: ${message}`);
    this.name = "HasuraRequestBug";
  }
}

// Codes with which Hasura says the request itself is wrong (our document or its schema), never the data.
const BUG_CODES = new Set([
  "validation-failed",
  "parse-failed",
  "invalid-json",
  "bad-request",
  "not-supported",
]);

/**
 * The core's error for a failed request: timeouts → DeadlineExceededError; network failures, 5xx, access denied
 * (a wrong admin secret makes the store unusable, not the caller's input wrong) and database errors →
 * UnavailableError; constraint violations → ConflictError / NotFoundError; a value too long for its column →
 * InvalidArgumentError; validation failures and other data exceptions → HasuraRequestBug. A write that timed out,
 * or lost its connection once the request went out, is said to be of unknown outcome.
 */
export function toStoreError(operation: string, failure: HasuraFailure): Error {
  switch (failure.kind) {
    case "timeout":
      // Hasura goes on with a mutation whose client gave up: the write may still land, as gRPC's
      // DEADLINE_EXCEEDED allows. Saying so keeps a caller from taking the refusal as "nothing changed".
      return new DeadlineExceededError(
        failure.write
          ? `Hasura did not answer ${operation} in time; the write may still be applied, read it back to know`
          : `Hasura did not answer ${operation} in time`,
        { cause: failure.cause },
      );
    case "unreachable":
      // A connection lost after the request went out leaves a write's fate unknown, like a timeout.
      return new UnavailableError(
        failure.write && !neverSent(failure.cause)
          ? `Hasura connection lost during ${operation}; the write may still be applied, read it back to know`
          : `Hasura unreachable for ${operation}`,
        { cause: failure.cause },
      );
    case "http":
      return new UnavailableError(`Hasura answered ${operation} with HTTP ${failure.status}`);
    case "graphql":
      return fromGraphQLErrors(operation, failure.errors);
  }
}

// Failures to connect at all: the request never reached Hasura.
const CONNECT_FAILURES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_CONNECT_TIMEOUT",
]);

function neverSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  return typeof cause?.code === "string" && CONNECT_FAILURES.has(cause.code);
}

function fromGraphQLErrors(operation: string, errors: readonly HasuraErrorEntry[]): Error {
  const first = errors[0] ?? {};
  const code = first.extensions?.code ?? "unexpected";
  const message = first.message ?? "no message";
  if (code === "constraint-violation") return fromConstraintViolation(operation, message);
  if (code === "data-exception") {
    // Inputs are checked against the column bounds before they get here; a value over them is still refused.
    if (/too long/i.test(message)) return new InvalidArgumentError("value", "longer than the column allows");
    return new HasuraRequestBug(operation, `${code}: ${message}`);
  }
  if (BUG_CODES.has(code)) return new HasuraRequestBug(operation, `${code}: ${message}`);
  if (code === "access-denied" || code === "invalid-headers") {
    return new UnavailableError(
      `Hasura denied ${operation} (${code}): check GRAPHQL_ADMIN_SECRET and GRAPHQL_ROLE`,
    );
  }
  return new UnavailableError(`Hasura failed ${operation} (${code}): ${message}`);
}

// Which constraint a violation names decides the error; Hasura passes Postgres' message on after its prefix.
function fromConstraintViolation(operation: string, message: string): Error {
  if (message.includes('"roles_component_id_key"')) {
    return new ConflictError("component_id", "the component already has another role");
  }
  // The upsert's guard nulls component_id of a role bound to another component (see hasura-documents.ts).
  if (message.includes('"component_id"') && /not-null|null value/i.test(message)) {
    return new ConflictError("role_id", "the role_id is bound to another component");
  }
  if (message.includes('"roles_pkey"')) {
    return new ConflictError("role_id", "the role_id is bound to another component");
  }
  if (/foreign key/i.test(message)) return new NotFoundError("role not found");
  return new HasuraRequestBug(operation, `unexpected constraint violation: ${message}`);
}
