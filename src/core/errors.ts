/** The closed set of failure kinds the core reports; each transport maps them once to its status codes. */
export type ErrorCode =
  | "invalid_argument"
  | "not_found"
  | "conflict"
  | "unauthenticated"
  | "unavailable"
  | "deadline_exceeded"
  | "payload_too_large";

/** Base of every error the core raises on purpose; anything else is unexpected and never shown to a caller. */
export abstract class CoreError extends Error {
  abstract readonly code: ErrorCode;
}

/** An input is missing, malformed or over a bound; `field` names it. */
export class InvalidArgumentError extends CoreError {
  readonly code = "invalid_argument";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "InvalidArgumentError";
  }
}

/** The thing asked for does not exist. */
export class NotFoundError extends CoreError {
  readonly code = "not_found";
  constructor(message: string) {
    super(message);
    this.name = "NotFoundError";
  }
}

/** Which key a conflicting write clashed on. */
export type ConflictKind = "role_id" | "component_id";

/** A write clashes with what is stored: a role_id bound to another component, or a component with another role. */
export class ConflictError extends CoreError {
  readonly code = "conflict";
  constructor(
    readonly kind: ConflictKind,
    message: string,
  ) {
    super(message);
    this.name = "ConflictError";
  }
}

/** The caller did not prove who it is; `reason` is a stable snake_case code for logs and metrics. */
export class UnauthenticatedError extends CoreError {
  readonly code = "unauthenticated";
  constructor(
    message: string,
    readonly reason: string = "unauthenticated",
  ) {
    super(message);
    this.name = "UnauthenticatedError";
  }
}

/** A dependency (store, identity provider) cannot be reached or is too stale to trust. */
export class UnavailableError extends CoreError {
  readonly code = "unavailable";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnavailableError";
  }
}

/** A dependency did not answer within its time budget. */
export class DeadlineExceededError extends CoreError {
  readonly code = "deadline_exceeded";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "DeadlineExceededError";
  }
}

/** An input is larger than its configured bound. */
export class PayloadTooLargeError extends CoreError {
  readonly code = "payload_too_large";
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = "PayloadTooLargeError";
  }
}

/** True when `error` is one the core raised on purpose. */
export function isCoreError(error: unknown): error is CoreError {
  return error instanceof CoreError;
}
