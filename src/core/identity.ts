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
  /**
   * True when the answer depends on the claims alone (the same claims always give the same groups): a caller's
   * groups are then read once per verified token, not on every request.
   */
  readonly claimsOnly?: boolean;
  /** Present where names are pinned: per group of the caller, whether its name's pin matched (ExplainDecision). */
  pinChecks?(claims: Readonly<Record<string, unknown>>): Promise<readonly GroupPinCheck[]>;
}

/** Where one of a caller's directory groups stands against the pins. */
export interface GroupPinCheck {
  readonly objectId: string;
  /** Its display name; absent for a token's groups (ids only). */
  readonly name: string | undefined;
  /** The object id `group:<name>` is pinned to; absent when that name has no pin. */
  readonly pinnedObjectId: string | undefined;
  /** True when its name is pinned to this very group. */
  readonly matched: boolean;
  /** The `group:` subjects the group counts as: every name pinned to its object id. */
  readonly countsAs: readonly string[];
}

/** A group as a directory lists it: its immutable object id, and its display name when the listing has one. */
export interface DirectoryGroup {
  readonly id: string;
  /** Absent for groups from a token's `groups` claim (ids only) and for groups without a usable name. */
  readonly name?: string | undefined;
}

/**
 * Resolves the groups of a verified caller from a directory whose group names are not unique (Entra display
 * names), each with its object id: a name then counts only through its pin. Rejects like GroupProvider.
 */
export interface DirectoryGroupProvider {
  directoryGroupsOf(claims: Readonly<Record<string, unknown>>): Promise<readonly DirectoryGroup[]>;
}

/**
 * Looks names up in that directory: the object ids of every group whose name is exactly `name` (none, one, or
 * several). Rejects with UnavailableError / DeadlineExceededError when the directory cannot say.
 */
export interface GroupDirectory {
  holdersOf(name: string): Promise<readonly string[]>;
}
