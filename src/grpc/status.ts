import { status } from "@grpc/grpc-js";
import type { ErrorCode } from "../core/errors.js";
import { ConflictError, isCoreError } from "../core/errors.js";

/** A gRPC status and the message a caller may see. */
export interface GrpcFailure {
  readonly code: status;
  readonly details: string;
}

/** What a caller sees of a failure that was not raised on purpose: the details go to the log only. */
export const INTERNAL_ERROR_MESSAGE = "internal error";

/** The one mapping from the core's errors to gRPC status codes; anything unexpected is UNKNOWN, message fixed. */
export function toGrpcStatus(error: unknown): GrpcFailure {
  if (!isCoreError(error)) return { code: status.UNKNOWN, details: INTERNAL_ERROR_MESSAGE };
  // A clash names the key it happened on, so the caller knows which of its two ids to look at.
  const details = error instanceof ConflictError ? `${error.kind}: ${error.message}` : error.message;
  return { code: codeOf(error.code), details };
}

function codeOf(code: ErrorCode): status {
  switch (code) {
    case "invalid_argument":
      return status.INVALID_ARGUMENT;
    case "not_found":
      return status.NOT_FOUND;
    // A role_id or component_id already taken; the message says which of the two clashed.
    case "conflict":
      return status.ALREADY_EXISTS;
    case "unauthenticated":
      return status.UNAUTHENTICATED;
    // grpc-js itself answers RESOURCE_EXHAUSTED for a message over the size bound; an input over a
    // byte bound is the same kind of failure.
    case "payload_too_large":
      return status.RESOURCE_EXHAUSTED;
    case "unavailable":
      return status.UNAVAILABLE;
    case "deadline_exceeded":
      return status.DEADLINE_EXCEEDED;
  }
}
