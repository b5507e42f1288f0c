/**
 * The Hasura stand-in on PostgreSQL (or an in-memory PGlite), in its own process (Hasura is another process beside the old
 * service), holding the benchmark mapping (rebuilt from BENCH_WORKLOAD, written with set-based SQL).
 */
import { openTestDatabase, postgresAvailable } from "../support/databases.js";
import { startHasuraStandIn } from "../support/hasura/server.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { buildWorkload, type WorkloadSize } from "./workload.js";

try {
  const size = JSON.parse(process.env.BENCH_WORKLOAD ?? "") as WorkloadSize;
  const adminSecret = process.env.OLD_WAY_ADMIN_SECRET ?? "";
  // A real PostgreSQL when one answers (closer to Hasura's own source), else an in-memory PGlite.
  const database = await openTestDatabase((await postgresAvailable()) ? "postgres" : "pglite");
  const client = database.client;
  const standIn = await startHasuraStandIn({ client, adminSecret });
  const workload = buildWorkload(size);
  const column = (rows: string[][], i: number) => rows.map((row) => row[i] as string);
  const roles = workload.roles.map((r) => [r.roleId, r.componentId]);
  const fields = workload.roles.flatMap((r) => r.rootFields.map((f) => [r.roleId, f]));
  const users = [...workload.userGrants].flatMap(([role, subjects]) => subjects.map((s) => [s, role]));
  const groups = [...workload.groupGrants].flatMap(([role, subjects]) => subjects.map((s) => [s, role]));
  await client.query(`INSERT INTO rolemapping.roles SELECT * FROM unnest($1::text[], $2::text[])`, [
    column(roles, 0),
    column(roles, 1),
  ]);
  await client.query(
    `INSERT INTO rolemapping.role_graphql_root_field_names SELECT * FROM unnest($1::text[], $2::text[])`,
    [column(fields, 0), column(fields, 1)],
  );
  await client.query(
    `INSERT INTO rolemapping.user_roles ("user", role_id) SELECT * FROM unnest($1::text[], $2::text[])`,
    [column(users, 0), column(users, 1)],
  );
  await client.query(
    `INSERT INTO rolemapping.group_roles ("group", role_id) SELECT * FROM unnest($1::text[], $2::text[])`,
    [column(groups, 0), column(groups, 1)],
  );
  serveUntilStopped({ url: standIn.url, database: database.url ? "postgresql" : "pglite" }, async () => {
    await standIn.close();
    await database.drop();
  });
} catch (error) {
  reportFailure(error);
}
