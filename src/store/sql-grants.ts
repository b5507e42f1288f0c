import type { RoleGrants } from "../core/mapping.js";
import type { SqlRow } from "./sql-client.js";

/** Where one kind of grant lives: its table and subject column, for a quoted schema. */
export interface GrantTable {
  readonly table: string;
  readonly column: string;
  /** Which list of RoleGrants its rows are. */
  readonly list: "users" | "groups";
}

/** The user grant table of a quoted schema. */
export function userTable(s: string): GrantTable {
  return { table: `${s}.user_roles`, column: `"user"`, list: "users" };
}

/** The group grant table of a quoted schema. */
export function groupTable(s: string): GrantTable {
  return { table: `${s}.group_roles`, column: `"group"`, list: "groups" };
}

/** One statement reading a role's users (kind 'u') and groups (kind 'g'); `$1` is the role id. */
export function grantsQuery(s: string): string {
  const users = userTable(s);
  const groups = groupTable(s);
  return `SELECT 'u' AS kind, ${users.column} AS subject FROM ${users.table} WHERE role_id = $1
    UNION ALL SELECT 'g' AS kind, ${groups.column} AS subject FROM ${groups.table} WHERE role_id = $1`;
}

/** The rows of `grantsQuery` as sorted users and groups. */
export function toGrants(roleId: string, rows: readonly SqlRow[]): RoleGrants {
  const users: string[] = [];
  const groups: string[] = [];
  for (const row of rows) {
    if (row.kind === "u") users.push(row.subject as string);
    else if (row.kind === "g") groups.push(row.subject as string);
  }
  return { roleId, users: users.sort(), groups: groups.sort() };
}
