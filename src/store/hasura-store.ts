import { DEFAULTS } from "../config/defaults.js";
import type { CombinedRoleLedger } from "../core/combined-roles.js";
import { InvalidArgumentError, NotFoundError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";
import type { GroupPin, MappingData, Role, RoleGrants } from "../core/mapping.js";
import { GROUP_PREFIX, USER_PREFIX } from "../core/subjects.js";
import { loadRolesOf, readChecksumOf, readJournal, WRITER_HEADER } from "./hasura-journal.js";
import { loadAllPaged, loadGroupPinsPaged, toPin, type PinRow } from "./hasura-load.js";
import { hasuraNames } from "./hasura-names.js";
import { prepareDocuments, toRole, type HasuraStoreParts, type RoleRow } from "./hasura-rows.js";
import { HasuraCombinedRoleLedger } from "./hasura-combined-ledger.js";
import { createHasuraTransport } from "./hasura-transport.js";
import type {
  DeletedRole,
  JournalRead,
  ReplacedGrants,
  RoleMappingStore,
  RolePage,
  StoreChecksum,
  UpsertedRole,
} from "../core/store-port.js";
import { WriteTags } from "./write-tags.js";

/** How to reach Hasura and which tables to use. */
export interface HasuraStoreOptions {
  /** `GRAPHQL_URL`: the GraphQL endpoint. */
  readonly url: string;
  /** `GRAPHQL_ADMIN_SECRET`. */
  readonly adminSecret: string;
  /** `GRAPHQL_ROLE`; default `admin`. */
  readonly role?: string;
  /** `ROLEMAPPING_TABLE_SCHEMA`; default `rolemapping` (`public` → unprefixed root fields). */
  readonly schema?: string;
  /** Budget of one request in milliseconds; default 10 000. */
  readonly timeoutMs?: number;
  /** Rows per page of loadAll; default 5 000. */
  readonly pageSize?: number;
  readonly logger?: CoreLogger;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

interface GrantsRow {
  readonly role_id: string;
  readonly user_roles: readonly { readonly user: string }[];
  readonly group_roles: readonly { readonly group: string }[];
}

/** A relationship's `_aggregate { aggregate { count } }`. */
interface Counted {
  readonly aggregate: { readonly count: number };
}

/** The fields of a replacement of grants that say what it changed. */
interface ReplacedRows {
  readonly lockRole: { readonly before: Counted } | null;
  readonly dropUnlisted: { readonly affected_rows: number };
  readonly grants: GrantsRow | null;
}

/** A RoleMappingStore over Hasura's GraphQL API; every write is one request, hence one transaction. */
export function createHasuraStore(options: HasuraStoreOptions): HasuraStore {
  const pageSize = options.pageSize ?? 5_000;
  if (!Number.isInteger(pageSize) || pageSize < 1)
    throw new InvalidArgumentError("pageSize", "expected a positive integer");
  const names = hasuraNames(options.schema ?? DEFAULTS.store.schema);
  const parts: HasuraStoreParts = {
    transport: createHasuraTransport(options),
    documents: prepareDocuments(names),
  };
  return new HasuraStore(parts, pageSize, new HasuraCombinedRoleLedger(parts.transport, names));
}

/**
 * The Hasura adapter of the store port. Each write carries a tag as a session variable, which Hasura hands to
 * the journal's triggers, so that the journal tells this client's answered writes apart (see write-tags.ts).
 */
export class HasuraStore implements RoleMappingStore {
  private readonly tags = new WriteTags();

  constructor(
    private readonly parts: HasuraStoreParts,
    private readonly pageSize: number,
    private readonly ledger?: CombinedRoleLedger,
  ) {}

  /** The ledger of combined roles, on its tracked tables (deploy/sql/004_combined_roles.sql). */
  combinedRoleLedger(): CombinedRoleLedger | undefined {
    return this.ledger;
  }

  /** Every role and grant, read page by page. */
  loadAll(): Promise<MappingData> {
    return loadAllPaged(this.parts, this.pageSize);
  }

  /** The version the tables' triggers bump on every write. */
  async changeMarker(): Promise<string> {
    const data = await this.request<{ versions: { version: number | string }[] }>(
      "read change marker",
      "readChangeMarker",
    );
    const version = data.versions[0]?.version;
    // A missing row is a broken migration: deciding on it would hide every later write from other replicas.
    if (version === undefined) throw new Error("the rolemapping_version table has no row");
    return String(version);
  }

  /** The journal after `since`: the marker, then the entries up to it. */
  changesSince(since: string, limit: number): Promise<JournalRead> {
    return readJournal(this.parts, since, limit, this.tags);
  }

  /** The roles among `roleIds`, their root fields and grants, in one root field. */
  loadRoles(roleIds: readonly string[]): Promise<MappingData> {
    return loadRolesOf(this.parts, roleIds);
  }

  /** The checksum view, when it was taken at marker `since`. */
  checksum(since: string): Promise<StoreChecksum | undefined> {
    return readChecksumOf(this.parts, since);
  }

  /** Creates or updates the role in one request; ConflictError on a clash (see hasura-documents.ts). */
  async upsertRole(role: Role): Promise<UpsertedRole> {
    const data = await this.write<{ existing: { rootFields: Counted } | null }>("upsert role", "upsertRole", {
      roleId: role.roleId,
      componentId: role.componentId,
      rootFields: role.rootFields,
      rootFieldRows: role.rootFields.map((name) => ({ role_id: role.roleId, graphql_root_field_name: name })),
    });
    return {
      role: { roleId: role.roleId, componentId: role.componentId, rootFields: [...role.rootFields].sort() },
      created: data.existing === null,
      rootFieldsBefore: data.existing?.rootFields.aggregate.count ?? 0,
    };
  }

  /** Afterwards exactly `users` hold the role; one request. */
  setUserRoles(roleId: string, users: readonly string[]): Promise<ReplacedGrants> {
    return this.replaceGrants("set user roles", "setUserRoles", roleId, users, "user");
  }

  /**
   * Afterwards exactly `groups` hold the role and `pins` are stored; one request. Without pins the document
   * leaves the pin table alone, so deployments that never pin need not track it.
   */
  setGroupRoles(
    roleId: string,
    groups: readonly string[],
    pins: readonly GroupPin[] = [],
  ): Promise<ReplacedGrants> {
    if (pins.length === 0)
      return this.replaceGrants("set group roles", "setGroupRoles", roleId, groups, "group");
    return this.replaceGrants("set group roles", "setGroupRolesPinned", roleId, groups, "group", {
      pins: pins.map(toPinRow),
    });
  }

  /** Every group pin, page by page. */
  loadGroupPins(): Promise<GroupPin[]> {
    return loadGroupPinsPaged(this.parts, this.pageSize);
  }

  /** The pins of `groups`, in one request. */
  async loadGroupPinsOf(groups: readonly string[]): Promise<GroupPin[]> {
    if (groups.length === 0) return [];
    const data = await this.request<{ pins: PinRow[] }>("read group pins", "readGroupPins", { groups });
    return data.pins.map(toPin);
  }

  /**
   * Stores the pins of groups that have none, then reads what is stored for them: two requests, the second
   * reading whatever the first or any other writer left.
   */
  async pinGroups(pins: readonly GroupPin[]): Promise<GroupPin[]> {
    if (pins.length === 0) return [];
    await this.write("pin groups", "pinAbsentGroups", { pins: pins.map(toPinRow) });
    return this.loadGroupPinsOf(pins.map((pin) => pin.group));
  }

  /** Removes the role's root fields, grants and the role in one request. */
  async deleteRole(roleId: string): Promise<DeletedRole> {
    const data = await this.write<{
      deleteUserRoles: { affected_rows: number };
      deleteGroupRoles: { affected_rows: number };
      role: { role_id: string } | null;
    }>("delete role", "deleteRole", { roleId });
    return {
      deleted: data.role !== null,
      users: data.deleteUserRoles.affected_rows,
      groups: data.deleteGroupRoles.affected_rows,
    };
  }

  /** The role by id. */
  async getRole(roleId: string): Promise<Role | undefined> {
    const data = await this.request<{ role: RoleRow | null }>("get role", "getRole", { roleId });
    return data.role ? toRole(data.role) : undefined;
  }

  /** The role of a component. */
  async getRoleByComponent(componentId: string): Promise<Role | undefined> {
    const data = await this.request<{ roles: RoleRow[] }>("get role by component", "getRoleByComponent", {
      componentId,
    });
    return data.roles[0] ? toRole(data.roles[0]) : undefined;
  }

  /** The users and groups holding the role. */
  async getRoleGrants(roleId: string): Promise<RoleGrants | undefined> {
    const data = await this.request<{ role: GrantsRow | null }>("get role grants", "getRoleGrants", {
      roleId,
    });
    return data.role ? toGrants(data.role) : undefined;
  }

  /** Roles in role_id order after `after`; one more row than the page tells whether another page follows. */
  async listRoles(pageSize: number, after: string | undefined): Promise<RolePage> {
    const where = after === undefined ? {} : { role_id: { _gt: after } };
    const data = await this.request<{ roles: RoleRow[] }>("list roles", "listRoles", {
      where,
      limit: pageSize + 1,
    });
    const roles = data.roles.slice(0, pageSize).map(toRole);
    const more = data.roles.length > pageSize;
    return { roles, nextAfter: more ? roles[roles.length - 1]?.roleId : undefined };
  }

  /** The role ids a `user:` or `group:` subject holds, sorted. */
  async listSubjectRoles(subject: string): Promise<string[]> {
    const group = subject.startsWith(GROUP_PREFIX);
    if (!group && !subject.startsWith(USER_PREFIX)) {
      throw new InvalidArgumentError("subject", `must start with "${USER_PREFIX}" or "${GROUP_PREFIX}"`);
    }
    const data = await this.request<{ grants: { role_id: string }[] }>(
      "list subject roles",
      group ? "listGroupSubjectRoles" : "listUserSubjectRoles",
      { subject },
    );
    return data.grants.map((g) => g.role_id).sort();
  }

  /** Resolves when Hasura answers an admin request. */
  async ping(): Promise<void> {
    await this.request("ping", "ping");
  }

  /** Nothing to release: connections are pooled by fetch and close when idle. */
  async close(): Promise<void> {}

  private async replaceGrants(
    operation: string,
    document: "setUserRoles" | "setGroupRoles" | "setGroupRolesPinned",
    roleId: string,
    subjects: readonly string[],
    column: "user" | "group",
    extra: Record<string, unknown> = {},
  ): Promise<ReplacedGrants> {
    const data = await this.write<ReplacedRows>(operation, document, {
      roleId,
      subjects,
      rows: subjects.map((subject) => ({ [column]: subject, role_id: roleId })),
      ...extra,
    });
    if (data.grants === null || data.lockRole === null) throw new NotFoundError(`role "${roleId}" not found`);
    const grants = toGrants(data.grants);
    const before = data.lockRole.before.aggregate.count;
    const removed = data.dropUnlisted.affected_rows;
    const after = column === "user" ? grants.users.length : grants.groups.length;
    return { grants, before, removed, added: after - before + removed };
  }

  private request<T>(
    operation: string,
    document: keyof HasuraStoreParts["documents"],
    variables?: Record<string, unknown>,
  ): Promise<T> {
    return this.parts.transport.request<T>(operation, this.parts.documents[document], variables);
  }

  // A mutation under a fresh tag, recorded as this client's own once Hasura answered it.
  private write<T>(
    operation: string,
    document: keyof HasuraStoreParts["documents"],
    variables: Record<string, unknown>,
  ): Promise<T> {
    return this.tags.run((tag) =>
      this.parts.transport.request<T>(operation, this.parts.documents[document], variables, {
        [WRITER_HEADER]: tag,
      }),
    );
  }
}

function toPinRow(pin: GroupPin): PinRow {
  return { group: pin.group, object_id: pin.objectId };
}

function toGrants(row: GrantsRow): RoleGrants {
  return {
    roleId: row.role_id,
    users: row.user_roles.map((u) => u.user).sort(),
    groups: row.group_roles.map((g) => g.group).sort(),
  };
}
