import { GroupPinIndex, type GroupPins } from "./group-pin-index.js";
import type { Grant, GroupPin, MappingData, Role } from "./mapping.js";
import { GROUP_PREFIX } from "./subjects.js";
import { ReservedRows, type IgnoredReserved } from "./reserved-rows.js";
import { reservedRoleIds } from "./reserved-roles.js";
import { RoleSums } from "./role-sums.js";

export type { IgnoredReserved } from "./reserved-rows.js";

const EMPTY: ReadonlySet<string> = new Set();
const ADMIN_ONLY = reservedRoleIds();

/**
 * The mappings indexed for decisions: a decision is a few hash lookups, whatever the number of roles.
 * Writes made through the core are applied in place, so the next decision on this replica sees them; roles
 * changed elsewhere are swapped in whole (replaceRoles). Reserved roles (Hasura's `admin`, RESERVED_ROLE_IDS)
 * are left out when it is built, so that no decision can ever choose one; who holds them in the store is kept
 * apart, only for ExplainDecision. Its checksum (src/core/checksum.ts) is kept up to date with every change:
 * hashing the rows as they are indexed adds a fraction to a load, and a check never blocks decisions.
 */
export class Snapshot {
  private readonly roles = new Map<string, Role>();
  private readonly rolesByField = new Map<string, Set<string>>();
  // One role is kept as its id alone, several in a set: most subjects hold one role, and a set of one took some
  // 180 bytes (1.8 MB at 10,000 users with a grant each).
  private readonly rolesBySubject = new Map<string, string | Set<string>>();
  private readonly subjectsByRole = new Map<string, Set<string>>();
  private readonly reservedRows = new ReservedRows();
  private readonly sums = new RoleSums();
  private readonly pinIndex = new GroupPinIndex();
  // Kept as grants and pins change: a scan of every subject per change would land on a decision's path.
  private readonly unpinned = new Set<string>();
  private grantCount = 0;
  private changes = 0;

  /** An empty snapshot that never indexes the `reserved` role ids (by default Hasura's `admin`). */
  constructor(private readonly reserved: ReadonlySet<string> = ADMIN_ONLY) {}

  /** Builds the indexes from everything a store holds, leaving out the rows of reserved role ids. */
  static from(data: MappingData, reserved: ReadonlySet<string> = ADMIN_ONLY): Snapshot {
    const snapshot = new Snapshot(reserved);
    for (const role of data.roles) snapshot.putRole(role);
    for (const grant of data.userGrants) snapshot.addGrant(grant);
    for (const grant of data.groupGrants) snapshot.addGrant(grant);
    for (const pin of data.groupPins ?? []) snapshot.pin(pin);
    return snapshot;
  }

  /** Number of roles. */
  get roleCount(): number {
    return this.roles.size;
  }

  /** Number of user and group grants. */
  get grants(): number {
    return this.grantCount;
  }

  /** Counts the changes applied in place: a value derived from this snapshot stays valid while it is unchanged. */
  get version(): number {
    return this.changes;
  }

  /** The reserved role ids found in the data it holds, and their role and grant rows. */
  get ignoredReserved(): IgnoredReserved {
    return this.reservedRows.ignored();
  }

  /** True when the reserved role `roleId` has rows in the data it holds. */
  holdsReserved(roleId: string): boolean {
    return this.reservedRows.has(roleId);
  }

  /** The ids of the roles it holds (reserved ones are never among them). */
  roleIds(): IterableIterator<string> {
    return this.roles.keys();
  }

  /** True for a role id the webhook must never answer. */
  isReserved(roleId: string): boolean {
    return this.reserved.has(roleId);
  }

  /** The reserved roles a user and its groups hold in the store (never among `rolesOf`). */
  reservedRolesOf(user: string, groups: readonly string[]): Set<string> {
    return this.reservedRows.rolesOf(user, groups);
  }

  /** The checksum of every role but those in `except` (the roles a store changed since), as the store's. */
  checksumExcept(except: Iterable<string>): string {
    return this.sums.checksumExcept(except);
  }

  /** The role, if present. */
  role(roleId: string): Role | undefined {
    return this.roles.get(roleId);
  }

  /** The roles mapped to a root field (empty when none). */
  rolesForField(field: string): ReadonlySet<string> {
    return this.rolesByField.get(field) ?? EMPTY;
  }

  /** The roles granted directly to a subject (`user:…` or `group:…`). */
  rolesOfSubject(subject: string): ReadonlySet<string> {
    const held = this.rolesBySubject.get(subject);
    return typeof held === "string" ? new Set([held]) : (held ?? EMPTY);
  }

  /** The role set of a user and its groups united. */
  rolesOf(user: string, groups: readonly string[]): Set<string> {
    const result = new Set<string>();
    addHeld(result, this.rolesBySubject.get(user));
    for (const group of groups) addHeld(result, this.rolesBySubject.get(group));
    return result;
  }

  /** The group pins: granted Entra display names bound to object ids. */
  get pins(): GroupPins {
    return this.pinIndex;
  }

  /** Pins names, replacing their earlier pins. */
  putPins(pins: readonly GroupPin[]): void {
    if (pins.length === 0) return;
    this.changes++;
    for (const pin of pins) this.pin(pin);
  }

  /** Makes the pins of `groups` exactly those of `pins` (a group absent from `pins` loses its pin). */
  replacePins(groups: Iterable<string>, pins: readonly GroupPin[]): void {
    this.changes++;
    for (const group of groups) this.unpin(group);
    for (const pin of pins) this.pin(pin);
  }

  /**
   * Replaces everything of the roles `roleIds` — the role, its root fields, its grants — with what `data` holds
   * of them (a role absent from it is deleted). Synchronous, so no decision sees part of it.
   */
  replaceRoles(roleIds: Iterable<string>, data: MappingData): void {
    this.changes++;
    for (const roleId of roleIds) this.dropRole(roleId);
    for (const role of data.roles) this.putRole(role);
    for (const grant of data.userGrants) this.addGrant(grant);
    for (const grant of data.groupGrants) this.addGrant(grant);
  }

  /** The granted `group:` subjects that have no pin (rows written before pins, or outside the API); kept live. */
  unpinnedGroups(): ReadonlySet<string> {
    return this.unpinned;
  }

  /** Creates or replaces a role and its root fields; its grants stay. */
  putRole(role: Role): void {
    if (this.reserved.has(role.roleId)) {
      this.reservedRows.addRole(role);
      this.sums.addRole(role);
      return;
    }
    this.changes++;
    const previous = this.roles.get(role.roleId);
    if (previous) {
      for (const field of previous.rootFields) removeFrom(this.rolesByField, field, role.roleId);
      this.sums.removeRole(previous);
    }
    this.roles.set(role.roleId, role);
    for (const field of role.rootFields) addTo(this.rolesByField, field, role.roleId);
    this.sums.addRole(role);
  }

  /**
   * Removes a role with all its root fields and grants. Deleting a reserved role is how operators clean the store
   * up: its holders stop being listed at once.
   */
  deleteRole(roleId: string): void {
    this.changes++;
    this.dropRole(roleId);
  }

  /** Makes exactly `subjects` of one kind (`user:` or `group:` prefix) hold the role. */
  replaceGrants(roleId: string, prefix: string, subjects: readonly string[]): void {
    if (this.reserved.has(roleId)) return;
    this.changes++;
    const wanted = new Set(subjects);
    for (const subject of [...(this.subjectsByRole.get(roleId) ?? [])]) {
      if (subject.startsWith(prefix) && !wanted.has(subject)) this.removeGrant(subject, roleId);
    }
    for (const subject of wanted) this.addGrant({ subject, roleId });
  }

  /** The subjects holding a role, users and groups apart, sorted. */
  grantsOf(roleId: string): { users: string[]; groups: string[] } {
    const users: string[] = [];
    const groups: string[] = [];
    for (const subject of this.subjectsByRole.get(roleId) ?? []) {
      (subject.startsWith(GROUP_PREFIX) ? groups : users).push(subject);
    }
    return { users: users.sort(), groups: groups.sort() };
  }

  private addGrant(grant: Grant): void {
    if (this.reserved.has(grant.roleId)) {
      this.reservedRows.addGrant(grant);
      this.sums.addGrant(grant.roleId, grant.subject);
      return;
    }
    const subjects = this.subjectsByRole.get(grant.roleId) ?? new Set<string>();
    if (subjects.has(grant.subject)) return;
    subjects.add(grant.subject);
    this.subjectsByRole.set(grant.roleId, subjects);
    this.holdRole(grant.subject, grant.roleId);
    if (grant.subject.startsWith(GROUP_PREFIX) && this.pinIndex.objectIdOf(grant.subject) === undefined) {
      this.unpinned.add(grant.subject);
    }
    this.grantCount++;
    this.sums.addGrant(grant.roleId, grant.subject);
  }

  // Everything of one role goes, whether the role itself is there or not (grants can outlive it in old tables).
  private dropRole(roleId: string): void {
    if (this.reserved.has(roleId)) this.reservedRows.forget(roleId);
    const role = this.roles.get(roleId);
    if (role) for (const field of role.rootFields) removeFrom(this.rolesByField, field, roleId);
    for (const subject of [...(this.subjectsByRole.get(roleId) ?? [])]) this.removeGrant(subject, roleId);
    this.subjectsByRole.delete(roleId);
    this.roles.delete(roleId);
    this.sums.dropRole(roleId);
  }

  private pin(pin: GroupPin): void {
    this.pinIndex.put(pin);
    this.unpinned.delete(pin.group);
  }

  private unpin(group: string): void {
    this.pinIndex.delete(group);
    if (this.rolesBySubject.has(group)) this.unpinned.add(group);
  }

  private holdRole(subject: string, roleId: string): void {
    const held = this.rolesBySubject.get(subject);
    if (held === undefined) this.rolesBySubject.set(subject, roleId);
    else if (typeof held !== "string") held.add(roleId);
    else if (held !== roleId) this.rolesBySubject.set(subject, new Set([held, roleId]));
  }

  private releaseRole(subject: string, roleId: string): void {
    const held = this.rolesBySubject.get(subject);
    if (held === roleId) this.rolesBySubject.delete(subject);
    else if (typeof held !== "string" && held?.delete(roleId) && held.size === 0)
      this.rolesBySubject.delete(subject);
  }

  private removeGrant(subject: string, roleId: string): void {
    const subjects = this.subjectsByRole.get(roleId);
    if (!subjects?.delete(subject)) return;
    this.releaseRole(subject, roleId);
    if (!this.rolesBySubject.has(subject)) this.unpinned.delete(subject);
    this.grantCount--;
    this.sums.removeGrant(roleId, subject);
  }
}

function addTo(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function addHeld(result: Set<string>, held: string | ReadonlySet<string> | undefined): void {
  if (typeof held === "string") result.add(held);
  else if (held !== undefined) for (const role of held) result.add(role);
}

function removeFrom(index: Map<string, Set<string>>, key: string, value: string): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
}
