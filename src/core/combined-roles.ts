/**
 * Where combined roles live (Hasura inherited roles in its metadata). Declared by the core, implemented by an
 * adapter (src/hasura-metadata/).
 */
export interface CombinedRoles {
  /** True when the role is known to exist: the warm path, a map lookup. */
  exists(name: string): boolean;
  /**
   * Creates the role with these parents unless it exists, one creation shared by concurrent callers; resolves
   * once the engine confirms it, rejects on an error or past the creation timeout.
   */
  ensure(name: string, parents: readonly string[]): Promise<void>;
  /** Drops every combined role having `roleId` among its parents; resolves once the engine confirms. */
  dropWithParent(roleId: string): Promise<void>;
}

/** Why a combined decision was turned into a denial: the role could not be made to exist in time. */
export const COMBINED_ROLE_UNAVAILABLE = "combined_role_unavailable" as const;

/** A combined role as the ledger keeps it: its name and parents. */
export interface CombinedRoleEntry {
  readonly name: string;
  readonly parents: readonly string[];
}

/** How recording uses went: roles a dropper holds (not recorded), and roles that had no row (now made). */
export interface RecordedUses {
  readonly dropping: readonly string[];
  readonly added: readonly string[];
}

/**
 * Where replicas share when each combined role was last used, and which one a replica is dropping: a table in the
 * store, the one thing every replica reads (Hasura's metadata has no timestamps). Times are milliseconds since
 * the epoch by the sidecars' clocks. Declared by the core, implemented by the SQL and Hasura stores.
 */
export interface CombinedRoleLedger {
  /**
   * Records the roles as used at `at`, making a row for a role without one; a role a dropper holds past `at` is
   * not recorded: it is being dropped and must be made again afterwards.
   */
  recordUses(roles: readonly CombinedRoleEntry[], at: number): Promise<RecordedUses>;
  /**
   * Moves the last use of the existing rows of `names` forward to `at`, except those a dropper holds past `at`;
   * returns the names it updated. Never makes a row: a role without one was dropped (or is being dropped).
   */
  touchUses(names: readonly string[], at: number): Promise<string[]>;
  /** A row for each role without one, as last used at `at` (roles found in the metadata, made before). */
  adopt(roles: readonly CombinedRoleEntry[], at: number): Promise<void>;
  /** Takes the sweep for `holder` until `until` unless another holder has it past `now`: one sweeper at a time. */
  takeSweep(holder: string, now: number, until: number): Promise<boolean>;
  /**
   * Claims for dropping, until `until`, at most `limit` roles last used before `idleBefore` and not held by
   * another dropper past `now`; returns them. A use recorded meanwhile finds them held.
   */
  claimIdle(idleBefore: number, now: number, until: number, limit: number): Promise<CombinedRoleEntry[]>;
  /** Removes the rows of roles dropped from the metadata. */
  forget(names: readonly string[]): Promise<void>;
  /**
   * Whether the row of `name` is still held until `until`, by the claim that set that hold: no use cancelled it
   * (after it ended) and no other sweeper took the role over since.
   */
  holds(name: string, until: number): Promise<boolean>;
  /**
   * Removes the row of a role dropped under the hold until `until`, and only while that hold is on it: a row another
   * sweeper took over, or a use recorded since, stays. Resolves true when it removed the row.
   */
  forgetHeld(name: string, until: number): Promise<boolean>;
  /** Ends the hold until `until` of the rows of `names` claimed and not dropped; a row held otherwise is left. */
  release(names: readonly string[], until: number): Promise<void>;
}

/** The store has no ledger table (deploy/sql/004_combined_roles.sql not applied): idle roles are kept. */
export class CombinedRoleLedgerMissing extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CombinedRoleLedgerMissing";
  }
}
