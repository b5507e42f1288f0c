import type { Grant, Role } from "./mapping.js";

/** What a build left out: the reserved role ids found in the data, and how many role and grant rows they had. */
export interface IgnoredReserved {
  readonly roleIds: readonly string[];
  readonly rows: number;
}

/**
 * The rows of reserved role ids (Hasura's `admin`, RESERVED_ROLE_IDS) a snapshot leaves out of its indexes: who
 * holds them, for ExplainDecision, and how many rows each had, for the log line and the gauge. Kept per role, so
 * a role reloaded or deleted on its own is counted again or forgotten.
 */
export class ReservedRows {
  private readonly bySubject = new Map<string, Set<string>>();
  private readonly roles = new Map<string, Role>();
  private readonly rows = new Map<string, number>();

  /** A reserved role's own row. */
  addRole(role: Role): void {
    this.roles.set(role.roleId, role);
    this.count(role.roleId);
  }

  /** A subject holding a reserved role. */
  addGrant(grant: Grant): void {
    const roles = this.bySubject.get(grant.subject);
    if (roles) roles.add(grant.roleId);
    else this.bySubject.set(grant.subject, new Set([grant.roleId]));
    this.count(grant.roleId);
  }

  /** Forgets every row of a reserved role. */
  forget(roleId: string): void {
    this.roles.delete(roleId);
    this.rows.delete(roleId);
    for (const [subject, roles] of this.bySubject) {
      roles.delete(roleId);
      if (roles.size === 0) this.bySubject.delete(subject);
    }
  }

  /** The reserved roles a user and its groups hold. */
  rolesOf(user: string, groups: readonly string[]): Set<string> {
    const result = new Set<string>();
    if (this.bySubject.size === 0) return result;
    for (const subject of [user, ...groups])
      for (const role of this.bySubject.get(subject) ?? []) result.add(role);
    return result;
  }

  /** The reserved role ids with rows, and the number of those rows. */
  ignored(): IgnoredReserved {
    let rows = 0;
    for (const count of this.rows.values()) rows += count;
    return { roleIds: [...this.rows.keys()].sort(), rows };
  }

  /** True when `roleId` has rows here. */
  has(roleId: string): boolean {
    return this.rows.has(roleId);
  }

  private count(roleId: string): void {
    this.rows.set(roleId, (this.rows.get(roleId) ?? 0) + 1);
  }
}
