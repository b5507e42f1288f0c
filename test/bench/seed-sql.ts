import type { SqlClient } from "../../src/store/sql-client.js";
import type { Workload } from "./workload.js";

/**
 * Writes the workload's mapping into existing mapping tables with set-based SQL (as a restore would), then, when
 * `grantRows` asks for more grant rows than the workload has, pads with users holding the first role directly.
 * Returns the grant rows written (user and group grants).
 */
export async function seedWorkloadSql(client: SqlClient, workload: Workload, grantRows = 0): Promise<number> {
  const column = (rows: string[][], i: number) => rows.map((row) => row[i] as string);
  const pairs = async (table: string, rows: string[][]) =>
    client.query(`INSERT INTO rolemapping.${table} SELECT * FROM unnest($1::text[], $2::text[])`, [
      column(rows, 0),
      column(rows, 1),
    ]);
  const users = [...workload.userGrants].flatMap(([role, subjects]) => subjects.map((s) => [s, role]));
  const groups = [...workload.groupGrants].flatMap(([role, subjects]) => subjects.map((s) => [s, role]));
  await pairs(
    "roles",
    workload.roles.map((r) => [r.roleId, r.componentId]),
  );
  await pairs(
    "role_graphql_root_field_names",
    workload.roles.flatMap((r) => r.rootFields.map((f) => [r.roleId, f])),
  );
  await client.query(
    `INSERT INTO rolemapping.user_roles ("user", role_id) SELECT * FROM unnest($1::text[], $2::text[])`,
    [column(users, 0), column(users, 1)],
  );
  await client.query(
    `INSERT INTO rolemapping.group_roles ("group", role_id) SELECT * FROM unnest($1::text[], $2::text[])`,
    [column(groups, 0), column(groups, 1)],
  );
  const padding = Math.max(0, grantRows - users.length - groups.length);
  if (padding > 0) {
    await client.query(
      `INSERT INTO rolemapping.user_roles ("user", role_id)
       SELECT 'user:padding-' || g || '_corp.com', $2 FROM generate_series(1, $1) g`,
      [padding, workload.roles[0]?.roleId],
    );
  }
  return users.length + groups.length + padding;
}
