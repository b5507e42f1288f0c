import type { Grant, MappingData, Role } from "../core/mapping.js";
import type { SqlQueryable } from "./sql-client.js";

/** Rows read per statement by loadAll: bounds the memory one page of driver rows takes. */
export const DEFAULT_LOAD_PAGE_SIZE = 50_000;

/**
 * Reads every role, root field and grant page by page (keyset pagination on each primary key, so every page is
 * an index range scan however deep). Run it in one REPEATABLE READ transaction for a consistent picture.
 */
export async function loadAllPaged(tx: SqlQueryable, schema: string, pageSize: number): Promise<MappingData> {
  // Many grants share a role id: one string instance per id keeps a million grants small.
  const ids = new Map<string, string>();
  const intern = (id: string): string => {
    const known = ids.get(id);
    if (known !== undefined) return known;
    ids.set(id, id);
    return id;
  };

  const componentOf = new Map<string, string>();
  await readPaged(tx, `${schema}.roles`, ["role_id", "component_id"], pageSize, (roleId, componentId) => {
    componentOf.set(intern(roleId), componentId);
  });
  const fieldsOf = new Map<string, string[]>();
  await readPaged(
    tx,
    `${schema}.role_graphql_root_field_names`,
    ["role_id", "graphql_root_field_name"],
    pageSize,
    (roleId, field) => {
      const fields = fieldsOf.get(roleId);
      if (fields) fields.push(field);
      else fieldsOf.set(roleId, [field]);
    },
  );
  const roles: Role[] = [];
  for (const [roleId, componentId] of componentOf) {
    roles.push({ roleId, componentId, rootFields: fieldsOf.get(roleId) ?? [] });
  }

  const userGrants: Grant[] = [];
  await readPaged(tx, `${schema}.user_roles`, [`"user"`, "role_id"], pageSize, (subject, roleId) => {
    userGrants.push({ subject, roleId: intern(roleId) });
  });
  const groupGrants: Grant[] = [];
  await readPaged(tx, `${schema}.group_roles`, [`"group"`, "role_id"], pageSize, (subject, roleId) => {
    groupGrants.push({ subject, roleId: intern(roleId) });
  });
  return { roles, userGrants, groupGrants };
}

// Walks a table in primary-key order `pageSize` rows at a time, resuming strictly after the last key seen.
async function readPaged(
  tx: SqlQueryable,
  table: string,
  [first, second]: readonly [string, string],
  pageSize: number,
  each: (a: string, b: string) => void,
): Promise<void> {
  const select = `SELECT ${first} AS a, ${second} AS b FROM ${table}`;
  const order = `ORDER BY ${first}, ${second} LIMIT $1`;
  let after: [string, string] | undefined;
  for (;;) {
    const rows = after
      ? await tx.query(`${select} WHERE (${first}, ${second}) > ($2, $3) ${order}`, [pageSize, ...after])
      : await tx.query(`${select} ${order}`, [pageSize]);
    for (const row of rows) each(row.a as string, row.b as string);
    const last = rows[rows.length - 1];
    if (rows.length < pageSize || !last) return;
    after = [last.a as string, last.b as string];
  }
}
