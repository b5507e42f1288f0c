import type { CombinedRoleLedger } from "./combined-roles.js";
import type { GroupPin, MappingData, Role, RoleGrants } from "./mapping.js";

/** One page of roles in stable `role_id` order; `nextAfter` is the last `role_id` when more may follow. */
export interface RolePage {
  readonly roles: readonly Role[];
  readonly nextAfter: string | undefined;
}

/** What upsertRole changed, counted inside its transaction. */
export interface UpsertedRole {
  /** The role as stored. */
  readonly role: Role;
  /** False when the role existed before. */
  readonly created: boolean;
  /** Root fields the role mapped before the write (0 when created). */
  readonly rootFieldsBefore: number;
}

/** What a replacement of a role's users (or groups) changed, counted inside its transaction. */
export interface ReplacedGrants {
  /** Every grant of the role after the write, users and groups. */
  readonly grants: RoleGrants;
  /** Subjects of the replaced kind holding the role before the write. */
  readonly before: number;
  readonly added: number;
  readonly removed: number;
}

/** What deleteRole removed, counted inside its transaction. */
export interface DeletedRole {
  /** False when there was no such role (nothing removed). */
  readonly deleted: boolean;
  /** User and group grants removed with the role. */
  readonly users: number;
  readonly groups: number;
}

/** One entry of the change journal: a role (or a group's pin) some write touched. */
export interface JournalEntry {
  readonly kind: "role" | "group_pin";
  /** The role id, or the group subject of a pin. */
  readonly id: string;
  /** Written by this store client in a write it answered successfully: its caller applied it already. */
  readonly own: boolean;
}

/** Why the journal cannot say what changed since a version: the reader must load everything. */
export type JournalGap =
  /** Entries after the version were pruned (the reader fell too far behind). */
  | "pruned"
  /** A table was truncated: every row may have changed. */
  | "truncated"
  /** The marker is below the version asked about (a store restored from a backup, a marker reset). */
  | "reset"
  /** The store has no journal (deploy/sql/003_change_journal.sql not applied, or not tracked in Hasura). */
  | "missing"
  /** More entries than the reader asked for at most: loading everything is cheaper. */
  | "too_many";

/** What changed after a version, as the journal says. */
export type JournalRead =
  | {
      readonly complete: true;
      /** The change marker the entries lead up to. */
      readonly marker: string;
      /** Distinct entries; a role listed both as own and not is listed twice. */
      readonly entries: readonly JournalEntry[];
    }
  | { readonly complete: false; readonly reason: JournalGap };

/** The store's checksum (see src/core/checksum.ts) as of `marker`, leaving out the roles changed since a version. */
export interface StoreChecksum {
  readonly marker: string;
  readonly checksum: string;
  /** Roles changed after the version asked about (up to `marker`): not part of `checksum`. */
  readonly changedRoles: readonly string[];
}

/**
 * The store port. Adapters (SQL on PGlite or PostgreSQL, Hasura GraphQL) implement it; the core uses only this.
 * Every write is one transaction, and answers what it changed as counted inside that transaction (for the audit). Adapters raise the core's errors: ConflictError, NotFoundError,
 * UnavailableError (store unreachable), DeadlineExceededError (store too slow).
 */
export interface RoleMappingStore {
  /** Every role and grant, for building a snapshot. */
  loadAll(): Promise<MappingData>;
  /** A cheap marker that changes with every write made through the API (for cross-replica freshness). */
  changeMarker(): Promise<string>;
  /**
   * What the journal lists as changed after marker `since`, up to the marker now: at most `limit` distinct
   * entries (else `too_many`). Incomplete when the journal cannot tell (see JournalGap).
   */
  changesSince(since: string, limit: number): Promise<JournalRead>;
  /** The roles that exist among `roleIds`, with their root fields, and every grant naming one of them. */
  loadRoles(roleIds: readonly string[]): Promise<MappingData>;
  /**
   * The checksum of every role not changed after marker `since`, with the roles left out; undefined when the
   * store cannot take it now (it can only compare at an unchanged marker and the marker moved, or the journal
   * does not reach back to `since`): the caller tries again later.
   */
  checksum(since: string): Promise<StoreChecksum | undefined>;
  /**
   * Calls `onChange` soon after any write commits (PostgreSQL's LISTEN), until the returned function is called.
   * Optional: stores without it are polled.
   */
  watchChanges?(onChange: () => void): () => Promise<void>;
  /** Creates or updates the role; afterwards it maps exactly `role.rootFields`. Conflict on a clash. */
  upsertRole(role: Role): Promise<UpsertedRole>;
  /** Afterwards exactly `users` (subjects `user:…`) hold the role. NotFound when the role is missing. */
  setUserRoles(roleId: string, users: readonly string[]): Promise<ReplacedGrants>;
  /**
   * Afterwards exactly `groups` (subjects `group:…`) hold the role, and `pins` are stored in the same transaction,
   * replacing earlier pins of those groups. NotFound when the role is missing (and then no pin is written).
   */
  setGroupRoles(
    roleId: string,
    groups: readonly string[],
    pins?: readonly GroupPin[],
  ): Promise<ReplacedGrants>;
  /**
   * Every group pin. Called only when group names are pinned (Entra display names): the stores of other
   * deployments may not have the pin table.
   */
  loadGroupPins(): Promise<GroupPin[]>;
  /** The pins of `groups` (those that have one): a replica reloads the pins the journal lists as changed. */
  loadGroupPinsOf(groups: readonly string[]): Promise<GroupPin[]>;
  /**
   * Stores each pin whose group has none yet, in one transaction, and returns the pins now stored for those
   * groups: the first writer wins, so replicas pinning the same name at once end with the same pin.
   */
  pinGroups(pins: readonly GroupPin[]): Promise<GroupPin[]>;
  /** Removes the role and all its mappings; `deleted` is false when there was none. */
  deleteRole(roleId: string): Promise<DeletedRole>;
  getRole(roleId: string): Promise<Role | undefined>;
  getRoleByComponent(componentId: string): Promise<Role | undefined>;
  getRoleGrants(roleId: string): Promise<RoleGrants | undefined>;
  /** Roles ordered by `role_id`, strictly after `after` when given. */
  listRoles(pageSize: number, after: string | undefined): Promise<RolePage>;
  /** The role ids a subject (`user:…` or `group:…`) holds, sorted. */
  listSubjectRoles(subject: string): Promise<string[]>;
  /**
   * Where replicas share the uses of combined roles (COMBINED_ROLE_IDLE_S). Optional: a store without it keeps
   * idle combined roles. Not a store call of its own: wrappers of the store do not pass it on.
   */
  combinedRoleLedger?(): CombinedRoleLedger | undefined;
  /** Resolves when the store answers; rejects with UnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
