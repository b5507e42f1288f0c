import { ConflictError, NotFoundError, UnavailableError } from "../core/errors.js";
import type { GroupPin, Role } from "../core/mapping.js";
import type { DeletedRole, ReplacedGrants, UpsertedRole } from "../core/store-port.js";
import type { SqlQueryable, SqlRow } from "./sql-client.js";
import { grantsQuery, toGrants, type GrantTable } from "./sql-grants.js";
import { upsertPinsIn } from "./sql-pins.js";

// Every write first locks the role row(s) it touches, before any statement that fires the change-marker
// trigger: all writers then take their locks in the same order (role rows, then the marker row) and
// concurrent writes to one role queue up instead of interleaving.
// What a write changed is counted by the statements that change it: a DELETE in a WITH clause, whose outer SELECT
// still sees the rows as they were before that statement (one snapshot for the whole statement).

/** Creates or updates a role inside `tx` (schema `s`, quoted); ConflictError when a key is bound otherwise. */
export async function upsertRoleIn(tx: SqlQueryable, s: string, role: Role): Promise<UpsertedRole> {
  const fields = [...new Set(role.rootFields)].sort();
  let rows = await lockRoleOrComponent(tx, s, role);
  let created = false;
  // Re-read after inserting: a concurrent writer may have taken either key between the check and the insert,
  // and (rarely) deleted it again before the re-read, hence the bounded loop.
  for (let attempt = 0; rows.length === 0 && attempt < 3; attempt++) {
    const inserted = await tx.query(
      `INSERT INTO ${s}.roles (role_id, component_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING role_id`,
      [role.roleId, role.componentId],
    );
    created ||= inserted.length > 0;
    rows = await lockRoleOrComponent(tx, s, role);
  }
  if (rows.length === 0)
    throw new UnavailableError(`role "${role.roleId}" kept changing under concurrent writes`);
  for (const row of rows) {
    if (row.role_id === role.roleId && row.component_id !== role.componentId) {
      throw new ConflictError(
        "role_id",
        `role "${role.roleId}" is bound to another component than "${role.componentId}"`,
      );
    }
    if (row.role_id !== role.roleId) {
      throw new ConflictError(
        "component_id",
        `component "${role.componentId}" already has another role than "${role.roleId}"`,
      );
    }
  }
  const [dropped] = await tx.query(
    `WITH dropped AS (
       DELETE FROM ${s}.role_graphql_root_field_names
       WHERE role_id = $1 AND graphql_root_field_name NOT IN (SELECT unnest($2::text[])) RETURNING 1
     )
     SELECT (SELECT count(*) FROM ${s}.role_graphql_root_field_names WHERE role_id = $1)::int AS before`,
    [role.roleId, fields],
  );
  await tx.query(
    `INSERT INTO ${s}.role_graphql_root_field_names (role_id, graphql_root_field_name)
     SELECT $1, field FROM unnest($2::text[]) AS wanted(field) ON CONFLICT DO NOTHING`,
    [role.roleId, fields],
  );
  return {
    role: { roleId: role.roleId, componentId: role.componentId, rootFields: fields },
    created,
    rootFieldsBefore: Number(dropped?.before ?? 0),
  };
}

/**
 * Makes exactly `subjects` hold the role inside `tx`, each with a fresh last_update, and stores `pins` with
 * them; NotFound without role.
 */
export async function replaceGrantsIn(
  tx: SqlQueryable,
  s: string,
  kind: GrantTable,
  roleId: string,
  subjects: readonly string[],
  pins: readonly GroupPin[] = [],
): Promise<ReplacedGrants> {
  const wanted = [...new Set(subjects)];
  // The row lock queues concurrent replacements of this role: each one applies whole, the last one wins.
  if (!(await lockRole(tx, s, roleId))) throw new NotFoundError(`role "${roleId}" not found`);
  // Pins before grants: a pin written on first use also locks pin rows before the change marker's row.
  await upsertPinsIn(tx, s, pins);
  // Arrays instead of one statement per subject: 10,000 subjects are still a handful of statements.
  const [counted] = await tx.query(
    `WITH removed AS (
       DELETE FROM ${kind.table} WHERE role_id = $1 AND ${kind.column} NOT IN (SELECT unnest($2::text[]))
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM removed)::int AS removed,
            (SELECT count(*) FROM ${kind.table} WHERE role_id = $1)::int AS before`,
    [roleId, wanted],
  );
  await tx.query(
    `INSERT INTO ${kind.table} (${kind.column}, role_id, last_update)
     SELECT subject, $1, now() FROM unnest($2::text[]) AS wanted(subject)
     ON CONFLICT (${kind.column}, role_id) DO UPDATE SET last_update = excluded.last_update`,
    [roleId, wanted],
  );
  const grants = toGrants(roleId, await tx.query(grantsQuery(s), [roleId]));
  const before = Number(counted?.before ?? 0);
  const removed = Number(counted?.removed ?? 0);
  return { grants, before, removed, added: grants[kind.list].length - before + removed };
}

/**
 * Deletes the role and its mappings inside `tx`, counting the grants removed; `deleted` false when there was
 * none. The children are deleted explicitly: tables of older deployments may have foreign keys without ON
 * DELETE CASCADE.
 */
export async function deleteRoleIn(tx: SqlQueryable, s: string, roleId: string): Promise<DeletedRole> {
  if (!(await lockRole(tx, s, roleId))) return { deleted: false, users: 0, groups: 0 };
  const removed: Record<string, number> = {};
  for (const table of ["role_graphql_root_field_names", "user_roles", "group_roles", "roles"]) {
    const [row] = await tx.query(
      `WITH removed AS (DELETE FROM ${s}.${table} WHERE role_id = $1 RETURNING 1)
       SELECT count(*)::int AS n FROM removed`,
      [roleId],
    );
    removed[table] = Number(row?.n ?? 0);
  }
  return { deleted: true, users: removed.user_roles ?? 0, groups: removed.group_roles ?? 0 };
}

async function lockRole(tx: SqlQueryable, s: string, roleId: string): Promise<boolean> {
  const rows = await tx.query(`SELECT role_id FROM ${s}.roles WHERE role_id = $1 FOR UPDATE`, [roleId]);
  return rows.length > 0;
}

function lockRoleOrComponent(tx: SqlQueryable, s: string, role: Role): Promise<SqlRow[]> {
  return tx.query(
    `SELECT role_id, component_id FROM ${s}.roles WHERE role_id = $1 OR component_id = $2 FOR UPDATE`,
    [role.roleId, role.componentId],
  );
}
