/** A token whose signature and claims were verified. */
export interface VerifiedToken {
  readonly claims: Readonly<Record<string, unknown>>;
  /** Expiry, seconds since the epoch (always present: tokens without `exp` are refused). */
  readonly expiresAt: number;
}

/** Verifies a bearer token; rejects with UnauthenticatedError (bad token) or UnavailableError (keys unreachable). */
export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

/**
 * Resolves the groups of a verified caller, as names without the `group:` prefix.
 * A failure rejects (UnavailableError / DeadlineExceededError): it is never an empty list.
 */
export interface GroupProvider {
  groupsOf(claims: Readonly<Record<string, unknown>>): Promise<readonly string[]>;
}

/** The minimal logger the core writes to; pino satisfies it. */
export interface CoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
