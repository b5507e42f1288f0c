/**
 * The Hasura stand-in on PostgreSQL (or an in-memory PGlite), in its own process (Hasura is another process beside
 * the sidecar). With BENCH_DATABASE_URL it serves that database's mapping as it is; otherwise a fresh database
 * holding the benchmark mapping rebuilt from BENCH_WORKLOAD.
 */
import { openPgClient } from "../../src/store/pg-client.js";
import { openTestDatabase, postgresAvailable, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn } from "../support/hasura/server.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { seedWorkloadSql } from "./seed-sql.js";
import { buildWorkload, type WorkloadSize } from "./workload.js";

try {
  const adminSecret = process.env.OLD_WAY_ADMIN_SECRET ?? "";
  const given = process.env.BENCH_DATABASE_URL;
  const database: TestDatabase = given
    ? (() => {
        const client = openPgClient({ connectionString: given, maxConnections: 10 });
        return { client, url: given, drop: () => client.close() };
      })()
    : // A real PostgreSQL when one answers (closer to Hasura's own source), else an in-memory PGlite.
      await openTestDatabase((await postgresAvailable()) ? "postgres" : "pglite");
  const standIn = await startHasuraStandIn({ client: database.client, adminSecret });
  if (!given) {
    const size = JSON.parse(process.env.BENCH_WORKLOAD ?? "") as WorkloadSize;
    await seedWorkloadSql(database.client, buildWorkload(size));
  }
  serveUntilStopped({ url: standIn.url, database: database.url ? "postgresql" : "pglite" }, async () => {
    await standIn.close();
    await database.drop();
  });
} catch (error) {
  reportFailure(error);
}
