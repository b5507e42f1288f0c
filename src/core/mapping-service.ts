import type { CombinedRoles } from "./combined-roles.js";
import { ConflictError, InvalidArgumentError, NotFoundError } from "./errors.js";
import type { GrantPinner } from "./group-pinning.js";
import type { Role, RoleGrants } from "./mapping.js";
import { GROUP_PREFIX, USER_PREFIX } from "./subjects.js";
import { refuseReserved, reservedRoleIds } from "./reserved-roles.js";
import type { SnapshotSync } from "./snapshot-sync.js";
import { requireId, requireIdList } from "./validation.js";
import {
  auditWrite,
  deleteCounts,
  grantCounts,
  NO_WRITE_AUDIT,
  upsertCounts,
  type Caller,
  type MappingCounts,
  type WriteAudit,
} from "./write-audit.js";
import type { RoleMappingStore } from "./store-port.js";

/** Bounds on what one call may carry. */
export interface MappingLimits {
  /** Users or groups in one set call. */
  readonly maxSubjects: number;
  /** Root fields of one role. */
  readonly maxRootFields: number;
  /** Largest page of ListRoles. */
  readonly maxPageSize: number;
}

export const DEFAULT_MAPPING_LIMITS: MappingLimits = {
  maxSubjects: 100_000,
  maxRootFields: 1_000,
  maxPageSize: 1_000,
};

/** What a MappingService is built with besides its store and snapshot. */
export interface MappingServiceOptions {
  readonly limits?: MappingLimits;
  /** Role ids no write may create or grant (Hasura's `admin` is always among them). */
  readonly reserved?: ReadonlySet<string>;
  /** Where group names are pinned (Entra display names): resolves each granted name to its group. */
  readonly pinner?: GrantPinner | undefined;
  /** COMBINED_ROLES=hasura: where the combined roles having a deleted role as parent are dropped. */
  readonly combined?: Pick<CombinedRoles, "dropWithParent"> | undefined;
  /** Told of every store write: who made it, what it changed (counted by the store), the outcome. */
  readonly audit?: WriteAudit;
}

/** A page of roles and the token for the next one ("" when this is the last). */
export interface ListRolesResult {
  readonly roles: readonly Role[];
  readonly nextPageToken: string;
}

/**
 * The RoleMapping API's behaviour, shared by gRPC and REST: validates every input, writes through the store in
 * one transaction each, applies the write to this replica's snapshot before answering, and reports each write
 * with its caller to the audit.
 */
export class MappingService {
  private readonly limits: MappingLimits;
  private readonly reserved: ReadonlySet<string>;
  private readonly audit: WriteAudit;

  constructor(
    private readonly store: RoleMappingStore,
    private readonly sync: SnapshotSync,
    private readonly options: MappingServiceOptions = {},
  ) {
    this.limits = options.limits ?? DEFAULT_MAPPING_LIMITS;
    this.reserved = options.reserved ?? reservedRoleIds();
    this.audit = options.audit ?? NO_WRITE_AUDIT;
  }

  /** Creates or updates a role; afterwards it maps exactly the given root fields. */
  async upsertRole(
    caller: Caller,
    input: { roleId: unknown; componentId: unknown; rootFields: unknown },
  ): Promise<Role> {
    const role: Role = {
      roleId: this.writableRoleId(input.roleId),
      componentId: requireId("component_id", input.componentId),
      rootFields: requireIdList("graphql_root_field_names", input.rootFields, this.limits.maxRootFields),
    };
    const what = { caller, operation: "upsert_role", roleId: role.roleId } as const;
    return this.sync.write(async (snapshot) => {
      const written = await auditWrite(
        this.audit,
        what,
        () => this.store.upsertRole(role),
        upsertCounts,
        // A clash changed nothing: what stands is what stood before.
        (error) =>
          error instanceof ConflictError ? this.rootFieldCount(role.roleId) : Promise.resolve(null),
      );
      snapshot?.putRole(written.role);
      return written.role;
    });
  }

  /** Afterwards exactly these `user:` subjects hold the role. */
  async setUserRoles(caller: Caller, roleId: unknown, users: unknown): Promise<RoleGrants> {
    const id = this.writableRoleId(roleId);
    const list = requireIdList("users", users, this.limits.maxSubjects, USER_PREFIX);
    const what = { caller, operation: "set_user_roles", roleId: id } as const;
    return this.sync.write(async (snapshot) => {
      const written = await auditWrite(
        this.audit,
        what,
        () => this.store.setUserRoles(id, list),
        (w) => grantCounts("users", w),
        (error) => Promise.resolve(missingRoleCounts(error, "users")),
      );
      snapshot?.replaceGrants(id, USER_PREFIX, written.grants.users);
      return written.grants;
    });
  }

  /**
   * Afterwards exactly these `group:` subjects hold the role. Where names are pinned, every listed name is
   * looked up again first and stored with its pin in the same transaction (granting a name again re-pins it);
   * a name held by no group or by several is refused before anything is written.
   */
  async setGroupRoles(caller: Caller, roleId: unknown, groups: unknown): Promise<RoleGrants> {
    const id = this.writableRoleId(roleId);
    const list = requireIdList("groups", groups, this.limits.maxSubjects, GROUP_PREFIX);
    const pins = this.options.pinner ? await this.options.pinner.pinsForGrant(list) : undefined;
    const what = { caller, operation: "set_group_roles", roleId: id } as const;
    return this.sync.write(async (snapshot) => {
      const written = await auditWrite(
        this.audit,
        what,
        () => this.store.setGroupRoles(id, list, pins),
        (w) => grantCounts("groups", w, pins),
        (error) => Promise.resolve(missingRoleCounts(error, "groups")),
      );
      snapshot?.replaceGrants(id, GROUP_PREFIX, written.grants.groups);
      if (pins) snapshot?.putPins(pins);
      return written.grants;
    });
  }

  // A reserved id may be read and deleted (cleaning up rows written outside the API), never written or granted.
  private writableRoleId(roleId: unknown): string {
    return refuseReserved("role_id", requireId("role_id", roleId), this.reserved);
  }

  // The root fields a role maps now, for the audit of a refused upsert; null when the store cannot say.
  private async rootFieldCount(roleId: string): Promise<MappingCounts | null> {
    const role = await this.store.getRole(roleId);
    return { root_fields: role?.rootFields.length ?? 0 };
  }

  /** Removes the role and every mapping of it; NotFoundError when there is no such role. */
  async deleteRole(caller: Caller, roleId: unknown): Promise<void> {
    const id = requireId("role_id", roleId);
    // First: Hasura refuses to take the last permission of a role some inherited role still has as parent.
    await this.options.combined?.dropWithParent(id);
    const what = { caller, operation: "delete_role", roleId: id } as const;
    return this.sync.write(async (snapshot) => {
      const written = await auditWrite(
        this.audit,
        what,
        () => this.store.deleteRole(id),
        deleteCounts,
        () => Promise.resolve(null),
      );
      snapshot?.deleteRole(id);
      if (!written.deleted) throw new NotFoundError(`role "${id}" not found`);
    });
  }

  /** The role with this id; NotFoundError when missing. */
  async getRole(roleId: unknown): Promise<Role> {
    const id = requireId("role_id", roleId);
    const role = await this.store.getRole(id);
    if (!role) throw new NotFoundError(`role "${id}" not found`);
    return role;
  }

  /** The role bound to this component; NotFoundError when missing. */
  async getRoleByComponent(componentId: unknown): Promise<Role> {
    const id = requireId("component_id", componentId);
    const role = await this.store.getRoleByComponent(id);
    if (!role) throw new NotFoundError(`no role for component "${id}"`);
    return role;
  }

  /** The users and groups holding a role; NotFoundError when the role is missing. */
  async getRoleGrants(roleId: unknown): Promise<RoleGrants> {
    const id = requireId("role_id", roleId);
    const grants = await this.store.getRoleGrants(id);
    if (!grants) throw new NotFoundError(`role "${id}" not found`);
    return grants;
  }

  /** Roles in `role_id` order; `pageToken` is the previous page's `nextPageToken`. */
  async listRoles(pageSize: unknown, pageToken: unknown): Promise<ListRolesResult> {
    const size = pageSize === undefined || pageSize === 0 ? Math.min(100, this.limits.maxPageSize) : pageSize;
    if (typeof size !== "number" || !Number.isInteger(size) || size < 1 || size > this.limits.maxPageSize) {
      throw new InvalidArgumentError("page_size", `expected an integer from 1 to ${this.limits.maxPageSize}`);
    }
    const after = pageToken === undefined || pageToken === "" ? undefined : decodePageToken(pageToken);
    const page = await this.store.listRoles(size, after);
    return {
      roles: page.roles,
      nextPageToken: page.nextAfter === undefined ? "" : encodePageToken(page.nextAfter),
    };
  }

  /** The role ids held directly by a `user:…` or `group:…` subject. */
  async listSubjectRoles(subject: unknown): Promise<string[]> {
    const id = requireId("subject", subject);
    if (!id.startsWith(USER_PREFIX) && !id.startsWith(GROUP_PREFIX)) {
      throw new InvalidArgumentError("subject", `must start with "${USER_PREFIX}" or "${GROUP_PREFIX}"`);
    }
    return this.store.listSubjectRoles(id);
  }
}

// A grant to a missing role changed nothing, and nobody held it.
function missingRoleCounts(error: unknown, list: "users" | "groups"): MappingCounts | null {
  return error instanceof NotFoundError ? { [list]: 0 } : null;
}

function encodePageToken(after: string): string {
  return Buffer.from(JSON.stringify({ after }), "utf8").toString("base64url");
}

function decodePageToken(token: unknown): string {
  if (typeof token !== "string" || token.length > 2048) {
    throw new InvalidArgumentError("page_token", "not a token returned by ListRoles");
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (parsed && typeof parsed === "object" && typeof (parsed as { after?: unknown }).after === "string") {
      return (parsed as { after: string }).after;
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError("page_token", "not a token returned by ListRoles");
}
