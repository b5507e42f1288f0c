import type { Grant, MappingData, Role } from "../core/mapping.js";
import type { SqlQueryable } from "./sql-client.js";

/** Roles per page in loadAll: each page carries these roles' root fields or grants, aggregated per role. */
export const DEFAULT_LOAD_PAGE_SIZE = 100;

/**
 * Reads every role, root field and grant through cursors, one page of roles at a time, each role's subjects
 * aggregated into one JSON array. Run it inside one REPEATABLE READ transaction for a consistent picture.
 *
 * Why not a row per grant with keyset pagination: PGlite decodes rows in JavaScript at a high cost per row
 * (a million grant rows took ~12 s), while one JSON array per role is decoded natively (~2 s). Cursors scan each
 * table once, without the per-page sort a keyset query needs when planner statistics are missing (PGlite has
 * no autovacuum, so its tables are never analysed).
 */
export async function loadAllPaged(tx: SqlQueryable, schema: string, pageSize: number): Promise<MappingData> {
  const roles: Role[] = [];
  await readCursor(
    tx,
    "rolemapping_roles",
    `SELECT r.role_id AS role_id, r.component_id AS component_id,
       coalesce(json_agg(f.graphql_root_field_name) FILTER (WHERE f.graphql_root_field_name IS NOT NULL),
         '[]')::text AS items
     FROM ${schema}.roles r LEFT JOIN ${schema}.role_graphql_root_field_names f ON f.role_id = r.role_id
     GROUP BY r.role_id, r.component_id`,
    pageSize,
    (row) => {
      roles.push({
        roleId: row.role_id as string,
        componentId: row.component_id as string,
        rootFields: items(row),
      });
    },
  );
  const userGrants = await readGrants(tx, "rolemapping_users", `${schema}.user_roles`, `"user"`, pageSize);
  const groupGrants = await readGrants(
    tx,
    "rolemapping_groups",
    `${schema}.group_roles`,
    `"group"`,
    pageSize,
  );
  return { roles, userGrants, groupGrants };
}

async function readGrants(
  tx: SqlQueryable,
  cursor: string,
  table: string,
  column: string,
  pageSize: number,
): Promise<Grant[]> {
  const grants: Grant[] = [];
  await readCursor(
    tx,
    cursor,
    `SELECT role_id, json_agg(${column})::text AS items FROM ${table} GROUP BY role_id`,
    pageSize,
    (row) => {
      // One role_id string shared by all of the role's grants keeps a million grants small.
      const roleId = row.role_id as string;
      for (const subject of items(row)) grants.push({ subject, roleId });
    },
  );
  return grants;
}

async function readCursor(
  tx: SqlQueryable,
  cursor: string,
  query: string,
  pageSize: number,
  each: (row: Record<string, unknown>) => void,
): Promise<void> {
  await tx.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${query}`);
  for (;;) {
    const rows = await tx.query(`FETCH FORWARD ${pageSize} FROM ${cursor}`);
    for (const row of rows) each(row);
    if (rows.length < pageSize) break;
  }
  await tx.query(`CLOSE ${cursor}`);
}

// Aggregated as JSON text and parsed here: exact for any string, and independent of the driver's type parsers.
function items(row: Record<string, unknown>): string[] {
  return JSON.parse(row.items as string) as string[];
}
