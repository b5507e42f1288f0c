import type { DeletedRole, ReplacedGrants, UpsertedRole } from "./store-port.js";
import type { GroupPin } from "./mapping.js";

/** Who a write is made for: an API caller (its transport and credential's name), or the sidecar itself. */
export interface Caller {
  readonly transport: "grpc" | "rest" | "internal";
  /** The API credential's name or the client certificate's subject, never the credential; none for the sidecar. */
  readonly name?: string | undefined;
}

/** The sidecar's own writes (the development sample mapping, tests of the core). */
export const INTERNAL_CALLER: Caller = Object.freeze({ transport: "internal" });

/** The writes of the RoleMapping API, as the audit names them. */
export type WriteOperation = "upsert_role" | "set_user_roles" | "set_group_roles" | "delete_role";

/** Counts of one role's mappings: the audit records counts only, never a subject. */
export type MappingCounts = Readonly<Partial<Record<"users" | "groups" | "root_fields", number>>>;

/** What a successful write changed, beyond the counts after it. */
export type WriteDetail = Readonly<Record<string, number | boolean | string | undefined>>;

/** One write as the audit records it. */
export interface AuditedWrite {
  readonly caller: Caller;
  readonly operation: WriteOperation;
  readonly roleId: string;
  /** The counts before the write, from its own transaction; null when the store could not say (it failed). */
  readonly before: MappingCounts | null;
  /** Milliseconds the store write took. */
  readonly ms: number;
  readonly result:
    | { readonly ok: true; readonly after: MappingCounts; readonly detail: WriteDetail }
    | { readonly ok: false; readonly error: unknown };
}

/** Where the mapping service reports each write it made (the sidecar: a log line and a metric). */
export interface WriteAudit {
  written(write: AuditedWrite): void;
}

/** Reports nothing: a service built without an audit. */
export const NO_WRITE_AUDIT: WriteAudit = { written: () => undefined };

/** A store write's counts before and after it, and its detail. */
export interface WriteCounts {
  readonly before: MappingCounts;
  readonly after: MappingCounts;
  readonly detail: WriteDetail;
}

/**
 * Runs one store write and reports it to `audit`: the counts the store answered on success; on failure the
 * counts `beforeFailure` gives (null: unknown), and the error. Returns or throws what the write did.
 */
export async function auditWrite<W>(
  audit: WriteAudit,
  what: Pick<AuditedWrite, "caller" | "operation" | "roleId">,
  write: () => Promise<W>,
  counts: (written: W) => WriteCounts,
  beforeFailure: (error: unknown) => Promise<MappingCounts | null>,
): Promise<W> {
  const started = performance.now();
  const ms = () => Math.round((performance.now() - started) * 10) / 10;
  try {
    const written = await write();
    const { before, after, detail } = counts(written);
    audit.written({ ...what, before, ms: ms(), result: { ok: true, after, detail } });
    return written;
  } catch (error) {
    const elapsed = ms();
    const before = await beforeFailure(error).catch(() => null);
    audit.written({ ...what, before, ms: elapsed, result: { ok: false, error } });
    throw error;
  }
}

/** The counts of an upsert. */
export function upsertCounts(written: UpsertedRole): WriteCounts {
  return {
    before: { root_fields: written.rootFieldsBefore },
    after: { root_fields: written.role.rootFields.length },
    detail: { component_id: written.role.componentId, created: written.created },
  };
}

/** The counts of a replacement of users or groups; `pins` where group names were pinned with it. */
export function grantCounts(
  list: "users" | "groups",
  written: ReplacedGrants,
  pins?: readonly GroupPin[],
): WriteCounts {
  return {
    before: { [list]: written.before },
    after: { [list]: written.grants[list].length },
    detail: { added: written.added, removed: written.removed, ...(pins ? { pinned: pins.length } : {}) },
  };
}

/** The counts of a delete: every grant is gone after it. */
export function deleteCounts(deleted: DeletedRole): WriteCounts {
  return {
    before: { users: deleted.users, groups: deleted.groups },
    after: { users: 0, groups: 0 },
    detail: { deleted: deleted.deleted },
  };
}
