import type { GroupPin, MappingData, Role, RoleGrants } from "../core/mapping.js";

/** One page of roles in stable `role_id` order; `nextAfter` is the last `role_id` when more may follow. */
export interface RolePage {
  readonly roles: readonly Role[];
  readonly nextAfter: string | undefined;
}

/**
 * The store port. Adapters (SQL on PGlite or PostgreSQL, Hasura GraphQL) implement it; the core uses only this.
 * Every write is one transaction. Adapters raise the core's errors: ConflictError, NotFoundError,
 * UnavailableError (store unreachable), DeadlineExceededError (store too slow).
 */
export interface RoleMappingStore {
  /** Every role and grant, for building a snapshot. */
  loadAll(): Promise<MappingData>;
  /** A cheap marker that changes with every write made through the API (for cross-replica freshness). */
  changeMarker(): Promise<string>;
  /** Creates or updates the role; afterwards it maps exactly `role.rootFields`. Conflict on a clash. */
  upsertRole(role: Role): Promise<Role>;
  /** Afterwards exactly `users` (subjects `user:…`) hold the role. NotFound when the role is missing. */
  setUserRoles(roleId: string, users: readonly string[]): Promise<RoleGrants>;
  /**
   * Afterwards exactly `groups` (subjects `group:…`) hold the role, and `pins` are stored in the same transaction,
   * replacing earlier pins of those groups. NotFound when the role is missing (and then no pin is written).
   */
  setGroupRoles(roleId: string, groups: readonly string[], pins?: readonly GroupPin[]): Promise<RoleGrants>;
  /**
   * Every group pin. Called only when group names are pinned (Entra display names): the stores of other
   * deployments may not have the pin table.
   */
  loadGroupPins(): Promise<GroupPin[]>;
  /**
   * Stores each pin whose group has none yet, in one transaction, and returns the pins now stored for those
   * groups: the first writer wins, so replicas pinning the same name at once end with the same pin.
   */
  pinGroups(pins: readonly GroupPin[]): Promise<GroupPin[]>;
  /** Removes the role and all its mappings; returns false when there was none. */
  deleteRole(roleId: string): Promise<boolean>;
  getRole(roleId: string): Promise<Role | undefined>;
  getRoleByComponent(componentId: string): Promise<Role | undefined>;
  getRoleGrants(roleId: string): Promise<RoleGrants | undefined>;
  /** Roles ordered by `role_id`, strictly after `after` when given. */
  listRoles(pageSize: number, after: string | undefined): Promise<RolePage>;
  /** The role ids a subject (`user:…` or `group:…`) holds, sorted. */
  listSubjectRoles(subject: string): Promise<string[]>;
  /** Resolves when the store answers; rejects with UnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
