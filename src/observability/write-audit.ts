import type { CoreLogger } from "../core/identity.js";
import type { GroupPin, RoleGrants } from "../core/mapping.js";
import type { RoleMappingStore } from "../core/store-port.js";
import { currentApiCaller } from "./api-caller-scope.js";
import { errorCode } from "./error-code.js";
import type { SidecarMetrics } from "./metrics.js";

/** Where write audit lines and counts go. */
export interface WriteAuditOptions {
  readonly logger: CoreLogger;
  readonly metrics?: SidecarMetrics;
}

/** Counts before or after a write; null when the before-state could not be read. */
type Counts = Readonly<Record<string, number>> | null;

interface Change {
  readonly after: Counts;
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * The store with one `mapping_write` audit line per write: who (the API credential's name), what (operation and
 * role), the counts before and after, and the outcome. Only counts are logged, never the users or groups.
 * The before-state is read just ahead of the write, inside the same write queue, so this replica's own writes
 * cannot slip in between; a failed read never stops the write.
 */
export function auditWrites(store: RoleMappingStore, options: WriteAuditOptions): RoleMappingStore {
  // undefined: no such role; null: the store could not say.
  const grantsBefore = (roleId: string) => store.getRoleGrants(roleId).catch(() => null);

  async function audited<T>(
    operation: string,
    roleId: string,
    before: Counts,
    write: () => Promise<T>,
    describe: (result: T) => Change,
  ): Promise<T> {
    const started = performance.now();
    const caller = currentApiCaller();
    const base = {
      event: "mapping_write",
      transport: caller?.transport ?? "internal",
      caller: caller?.name(),
      operation,
      role_id: roleId,
      before,
    };
    const ms = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      const result = await write();
      const change = describe(result);
      options.logger.info({ ...base, after: change.after, ...change.extra, outcome: "ok", ms: ms() });
      options.metrics?.observeWrite(base.transport, operation, "ok");
      return result;
    } catch (error) {
      const code = errorCode(error);
      options.logger.warn({ ...base, outcome: "error", error_code: code, ms: ms() });
      options.metrics?.observeWrite(base.transport, operation, code);
      throw error;
    }
  }

  const setGrants = (kind: "users" | "groups", operation: string) =>
    async function (
      roleId: string,
      subjects: readonly string[],
      pins?: readonly GroupPin[],
    ): Promise<RoleGrants> {
      const previous = await grantsBefore(roleId);
      return audited(
        operation,
        roleId,
        previous === null ? null : { [kind]: previous?.[kind].length ?? 0 },
        () =>
          kind === "users"
            ? store.setUserRoles(roleId, subjects)
            : store.setGroupRoles(roleId, subjects, pins),
        (grants) => ({
          after: { [kind]: grants[kind].length },
          extra: { ...difference(previous?.[kind], grants[kind]), ...(pins ? { pinned: pins.length } : {}) },
        }),
      );
    };

  return {
    ...bindAll(store),
    async upsertRole(role) {
      const previous = await store.getRole(role.roleId).catch(() => null);
      return audited(
        "upsert_role",
        role.roleId,
        previous === null ? null : { root_fields: previous?.rootFields.length ?? 0 },
        () => store.upsertRole(role),
        (stored) => ({
          after: { root_fields: stored.rootFields.length },
          extra: {
            component_id: stored.componentId,
            created: previous === null ? undefined : previous === undefined,
          },
        }),
      );
    },
    setUserRoles: setGrants("users", "set_user_roles"),
    setGroupRoles: setGrants("groups", "set_group_roles"),
    async deleteRole(roleId) {
      const previous = await grantsBefore(roleId);
      return audited(
        "delete_role",
        roleId,
        previous === null
          ? null
          : { users: previous?.users.length ?? 0, groups: previous?.groups.length ?? 0 },
        () => store.deleteRole(roleId),
        (deleted) => ({ after: { users: 0, groups: 0 }, extra: { deleted } }),
      );
    },
  };
}

// Added and removed counts when the before-state is known.
function difference(
  before: readonly string[] | undefined,
  after: readonly string[],
): Record<string, number> | undefined {
  if (before === undefined) return undefined;
  const old = new Set(before);
  const now = new Set(after);
  return {
    added: after.filter((subject) => !old.has(subject)).length,
    removed: before.filter((subject) => !now.has(subject)).length,
  };
}

// The store's own methods bound to it, so the audited store passes every other call straight through.
function bindAll(store: RoleMappingStore): RoleMappingStore {
  return {
    loadAll: () => store.loadAll(),
    changeMarker: () => store.changeMarker(),
    changesSince: (since, limit) => store.changesSince(since, limit),
    loadRoles: (roleIds) => store.loadRoles(roleIds),
    checksum: (since) => store.checksum(since),
    ...(store.watchChanges ? { watchChanges: store.watchChanges.bind(store) } : {}),
    upsertRole: (role) => store.upsertRole(role),
    setUserRoles: (roleId, users) => store.setUserRoles(roleId, users),
    setGroupRoles: (roleId, groups, pins) => store.setGroupRoles(roleId, groups, pins),
    loadGroupPins: () => store.loadGroupPins(),
    loadGroupPinsOf: (groups) => store.loadGroupPinsOf(groups),
    pinGroups: (pins) => store.pinGroups(pins),
    deleteRole: (roleId) => store.deleteRole(roleId),
    getRole: (roleId) => store.getRole(roleId),
    getRoleByComponent: (componentId) => store.getRoleByComponent(componentId),
    getRoleGrants: (roleId) => store.getRoleGrants(roleId),
    listRoles: (pageSize, after) => store.listRoles(pageSize, after),
    listSubjectRoles: (subject) => store.listSubjectRoles(subject),
    ping: () => store.ping(),
    close: () => store.close(),
  };
}
