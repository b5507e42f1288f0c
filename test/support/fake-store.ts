import { mappingChecksum } from "../../src/core/checksum.js";
import { ConflictError, NotFoundError, UnavailableError } from "../../src/core/errors.js";
import type { Grant, GroupPin, MappingData, Role, RoleGrants } from "../../src/core/mapping.js";
import type {
  DeletedRole,
  JournalEntry,
  JournalRead,
  ReplacedGrants,
  RoleMappingStore,
  RolePage,
  StoreChecksum,
  UpsertedRole,
} from "../../src/core/store-port.js";

interface Entry {
  readonly version: number;
  readonly kind: JournalEntry["kind"] | "all";
  readonly id: string;
  readonly own: boolean;
}

/**
 * An in-memory RoleMappingStore with the write semantics of docs/design.md ("Writes"), a change marker that moves
 * on every write, a change journal, and switches to make it unreachable or slow, for testing the core without a
 * database.
 * Its writes are journaled as somebody else's unless `ownWrites` is set (then as this client's own).
 */
export class FakeStore implements RoleMappingStore {
  private readonly roles = new Map<string, Role>();
  private readonly grants = new Map<string, Set<string>>();
  /** Group pins: subject → object id. */
  readonly pins = new Map<string, string>();
  private version = 0;
  private readonly journal: Entry[] = [];
  private floor = 0;
  /** When true, every call rejects with UnavailableError. */
  down = false;
  /** When true, the journal entries of this store's successful writes read as this client's own. */
  ownWrites = false;
  /** When true, the store acts as one without the journal migration (changesSince: missing, no checksum). */
  journalMissing = false;
  /** Subscribers of watchChanges; notify() calls them. */
  private readonly listeners = new Set<() => void>();
  /** When set, loadAll awaits it after reading the data: lets a test interleave a write with a slow load. */
  loadGate: Promise<void> | undefined;
  /** When set, loadRoles awaits it after reading the data. */
  loadRolesGate: Promise<void> | undefined;
  /** How many times loadAll ran. */
  loads = 0;
  /** The role ids of each loadRoles call. */
  readonly roleLoads: string[][] = [];
  /** How many times checksum ran. */
  checksums = 0;

  constructor(data?: Partial<MappingData>) {
    for (const role of data?.roles ?? []) this.roles.set(role.roleId, role);
    for (const grant of [...(data?.userGrants ?? []), ...(data?.groupGrants ?? [])]) {
      this.subjects(grant.roleId).add(grant.subject);
    }
  }

  /** Moves the change marker as a write made outside this replica would. */
  touch(): void {
    this.version++;
  }

  /** Grants a role directly in the store, as an edit made outside the API would (marker moves, journaled). */
  grantOutside(grant: Grant): void {
    this.subjects(grant.roleId).add(grant.subject);
    this.record("role", grant.roleId, false);
  }

  /** Grants a role with neither the marker nor the journal noticing (a store restored behind their back). */
  grantUnnoticed(grant: Grant): void {
    this.subjects(grant.roleId).add(grant.subject);
  }

  /** Drops the journal's entries up to the current version, as pruning does for a replica far behind. */
  pruneJournal(): void {
    this.journal.splice(0);
    this.floor = this.version;
  }

  /** Empties every grant of every role, journaled as a TRUNCATE is. */
  truncateGrants(): void {
    this.grants.clear();
    this.record("all", "", false);
  }

  async loadAll(): Promise<MappingData> {
    this.check();
    this.loads++;
    const data = this.snapshotData();
    if (this.loadGate) await this.loadGate;
    return data;
  }

  async changeMarker(): Promise<string> {
    this.check();
    return String(this.version);
  }

  /** Tells every watcher that something changed, as PostgreSQL's NOTIFY does. */
  notify(): void {
    for (const listener of this.listeners) listener();
  }

  watchChanges(onChange: () => void): () => Promise<void> {
    this.listeners.add(onChange);
    return async () => void this.listeners.delete(onChange);
  }

  /** How many watchers are subscribed. */
  get watchers(): number {
    return this.listeners.size;
  }

  async changesSince(since: string, limit: number): Promise<JournalRead> {
    this.check();
    if (this.journalMissing) return { complete: false, reason: "missing" };
    const after = Number(since);
    if (!(after <= this.version)) return { complete: false, reason: "reset" };
    if (after < this.floor) return { complete: false, reason: "pruned" };
    const newer = this.journal.filter((entry) => entry.version > after);
    if (newer.some((entry) => entry.kind === "all")) return { complete: false, reason: "truncated" };
    const distinct = new Map<string, JournalEntry>();
    for (const { kind, id, own } of newer) {
      if (kind !== "all") distinct.set(`${kind}/${id}/${own}`, { kind, id, own });
    }
    if (distinct.size > limit) return { complete: false, reason: "too_many" };
    return { complete: true, marker: String(this.version), entries: [...distinct.values()] };
  }

  async loadRoles(roleIds: readonly string[]): Promise<MappingData> {
    this.check();
    this.roleLoads.push([...roleIds]);
    const wanted = new Set(roleIds);
    const all = this.snapshotData();
    const data = {
      roles: all.roles.filter((role) => wanted.has(role.roleId)),
      userGrants: all.userGrants.filter((grant) => wanted.has(grant.roleId)),
      groupGrants: all.groupGrants.filter((grant) => wanted.has(grant.roleId)),
    };
    if (this.loadRolesGate) await this.loadRolesGate;
    return data;
  }

  async checksum(since: string): Promise<StoreChecksum | undefined> {
    this.check();
    this.checksums++;
    if (this.journalMissing) return undefined;
    const after = Number(since);
    if (after < this.floor || after > this.version) return undefined;
    const changed = new Set(
      this.journal.filter((e) => e.version > after && e.kind === "role").map((e) => e.id),
    );
    return {
      marker: String(this.version),
      checksum: mappingChecksum(this.snapshotData(), changed),
      changedRoles: [...changed],
    };
  }

  async upsertRole(role: Role): Promise<UpsertedRole> {
    this.check();
    const existing = this.roles.get(role.roleId);
    if (existing && existing.componentId !== role.componentId) {
      throw new ConflictError("role_id", `role "${role.roleId}" belongs to another component`);
    }
    for (const other of this.roles.values()) {
      if (other.componentId === role.componentId && other.roleId !== role.roleId) {
        throw new ConflictError("component_id", `component "${role.componentId}" has another role`);
      }
    }
    // As the real stores: root fields once each, sorted.
    const stored = { ...role, rootFields: [...new Set(role.rootFields)].sort() };
    this.roles.set(role.roleId, stored);
    this.record("role", role.roleId);
    return { role: stored, created: !existing, rootFieldsBefore: existing?.rootFields.length ?? 0 };
  }

  async setUserRoles(roleId: string, users: readonly string[]): Promise<ReplacedGrants> {
    return this.replace(roleId, "user:", users);
  }

  async setGroupRoles(
    roleId: string,
    groups: readonly string[],
    pins: readonly GroupPin[] = [],
  ): Promise<ReplacedGrants> {
    const grants = this.replace(roleId, "group:", groups);
    for (const pin of pins) {
      this.pins.set(pin.group, pin.objectId);
      this.record("group_pin", pin.group);
    }
    return grants;
  }

  async loadGroupPins(): Promise<GroupPin[]> {
    this.check();
    return [...this.pins].map(([group, objectId]) => ({ group, objectId }));
  }

  async loadGroupPinsOf(groups: readonly string[]): Promise<GroupPin[]> {
    this.check();
    return groups.flatMap((group) => {
      const objectId = this.pins.get(group);
      return objectId === undefined ? [] : [{ group, objectId }];
    });
  }

  async pinGroups(pins: readonly GroupPin[]): Promise<GroupPin[]> {
    this.check();
    for (const pin of pins) {
      if (this.pins.has(pin.group)) continue;
      this.pins.set(pin.group, pin.objectId);
      this.record("group_pin", pin.group);
    }
    this.touch();
    return pins.map((pin) => ({ group: pin.group, objectId: this.pins.get(pin.group) as string }));
  }

  async deleteRole(roleId: string): Promise<DeletedRole> {
    this.check();
    const held = this.grantsOf(roleId);
    const existed = this.roles.delete(roleId);
    this.grants.delete(roleId);
    if (existed) this.record("role", roleId);
    return existed
      ? { deleted: true, users: held.users.length, groups: held.groups.length }
      : { deleted: false, users: 0, groups: 0 };
  }

  async getRole(roleId: string): Promise<Role | undefined> {
    this.check();
    return this.roles.get(roleId);
  }

  async getRoleByComponent(componentId: string): Promise<Role | undefined> {
    this.check();
    return [...this.roles.values()].find((role) => role.componentId === componentId);
  }

  async getRoleGrants(roleId: string): Promise<RoleGrants | undefined> {
    this.check();
    return this.roles.has(roleId) ? this.grantsOf(roleId) : undefined;
  }

  async listRoles(pageSize: number, after: string | undefined): Promise<RolePage> {
    this.check();
    const sorted = [...this.roles.values()]
      .filter((role) => after === undefined || role.roleId > after)
      .sort((a, b) => (a.roleId < b.roleId ? -1 : 1));
    const roles = sorted.slice(0, pageSize);
    const more = sorted.length > pageSize;
    return { roles, nextAfter: more ? roles[roles.length - 1]?.roleId : undefined };
  }

  async listSubjectRoles(subject: string): Promise<string[]> {
    this.check();
    return [...this.grants.entries()]
      .filter(([, subjects]) => subjects.has(subject))
      .map(([roleId]) => roleId)
      .sort();
  }

  async ping(): Promise<void> {
    this.check();
  }

  async close(): Promise<void> {}

  private replace(roleId: string, prefix: string, subjects: readonly string[]): ReplacedGrants {
    this.check();
    if (!this.roles.has(roleId)) throw new NotFoundError(`role "${roleId}" not found`);
    const held = this.subjects(roleId);
    const before = [...held].filter((subject) => subject.startsWith(prefix));
    const wanted = new Set(subjects);
    for (const subject of before) held.delete(subject);
    for (const subject of subjects) held.add(subject);
    this.record("role", roleId);
    return {
      grants: this.grantsOf(roleId),
      before: before.length,
      added: [...wanted].filter((subject) => !before.includes(subject)).length,
      removed: before.filter((subject) => !wanted.has(subject)).length,
    };
  }

  // Moves the marker and journals what changed, as the store's triggers do.
  private record(kind: Entry["kind"], id: string, own = this.ownWrites): void {
    this.touch();
    this.journal.push({ version: this.version, kind, id, own });
  }

  private grantsOf(roleId: string): RoleGrants {
    const subjects = [...(this.grants.get(roleId) ?? [])].sort();
    return {
      roleId,
      users: subjects.filter((subject) => subject.startsWith("user:")),
      groups: subjects.filter((subject) => subject.startsWith("group:")),
    };
  }

  private subjects(roleId: string): Set<string> {
    let set = this.grants.get(roleId);
    if (!set) this.grants.set(roleId, (set = new Set()));
    return set;
  }

  private snapshotData(): MappingData {
    const userGrants: Grant[] = [];
    const groupGrants: Grant[] = [];
    for (const [roleId, subjects] of this.grants) {
      for (const subject of subjects) {
        (subject.startsWith("group:") ? groupGrants : userGrants).push({ subject, roleId });
      }
    }
    return { roles: [...this.roles.values()], userGrants, groupGrants };
  }

  private check(): void {
    if (this.down) throw new UnavailableError("store unreachable");
  }
}
