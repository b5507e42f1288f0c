/**
 * One phase of the snapshot-load benchmark, in its own process. BENCH_PHASE=seed fills the store named by
 * BENCH_STORE (`pglite` with its data directory BENCH_TARGET, or `postgres` with the database URL BENCH_TARGET)
 * with BENCH_GRANT_ROWS grant rows by set-based SQL. BENCH_PHASE=load opens it afresh, as a restarted sidecar
 * would, times SqlStore.loadAll and Snapshot.from and samples resident memory around them (run with --expose-gc).
 */
import { Snapshot } from "../../src/core/snapshot.js";
import { openPgClient } from "../../src/store/pg-client.js";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import { reportFailure, serveUntilStopped } from "./child.js";

const MB = 1024 * 1024;
try {
  const grants = Number(process.env.BENCH_GRANT_ROWS);
  const roles = grants >= 100_000 ? 1_000 : 100;
  const target = process.env.BENCH_TARGET ?? "";
  const client: SqlClient =
    process.env.BENCH_STORE === "postgres"
      ? openPgClient({ connectionString: target, maxConnections: 2, statementTimeoutMs: 600_000 })
      : await openPgliteClient(target);
  if (process.env.BENCH_PHASE === "seed") {
    await createSqlStore({ client, migrate: true });
    await seed(client, grants, roles);
    serveUntilStopped({ grantRows: grants }, () => client.close());
  } else {
    serveUntilStopped(await measureLoad(client, grants, roles), () => client.close());
  }
} catch (error) {
  reportFailure(error);
}

async function seed(client: SqlClient, grants: number, roles: number): Promise<void> {
  await client.query(
    `INSERT INTO rolemapping.roles SELECT 'role-' || r, 'component-' || r FROM generate_series(1, $1) r`,
    [roles],
  );
  await client.query(
    `INSERT INTO rolemapping.role_graphql_root_field_names
     SELECT 'role-' || r, 'field_' || r || '_' || f FROM generate_series(1, $1) r, generate_series(1, 3) f`,
    [roles],
  );
  // Nine in ten grants are users' (ten roles each), the rest groups'.
  const users = Math.floor(grants * 0.9);
  await client.query(
    `INSERT INTO rolemapping.user_roles ("user", role_id, last_update)
     SELECT 'user:person-' || (g / 10) || '_corp.com', 'role-' || (g % $2 + 1), now() FROM generate_series(0, $1 - 1) g`,
    [users, roles],
  );
  await client.query(
    `INSERT INTO rolemapping.group_roles ("group", role_id, last_update)
     SELECT 'group:team-' || (g / 10), 'role-' || (g % $2 + 1), now() FROM generate_series(0, $1 - 1) g`,
    [grants - users, roles],
  );
}

async function measureLoad(client: SqlClient, grants: number, roles: number) {
  const store = await createSqlStore({ client, migrate: false });
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const before = process.memoryUsage();
  // Sampled on a timer and at the two moments the most is alive (the load can keep the timer from firing).
  let peakRss = before.rss;
  const sample = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  const sampler = setInterval(sample, 10);
  let started = performance.now();
  const data = await store.loadAll();
  const loadMs = performance.now() - started;
  sample();
  started = performance.now();
  const snapshot = Snapshot.from(data);
  const indexMs = performance.now() - started;
  sample();
  clearInterval(sampler);
  gc?.();
  const after = process.memoryUsage();
  if (snapshot.grants !== grants) throw new Error(`expected ${grants} grants, indexed ${snapshot.grants}`);
  return {
    grantRows: grants,
    roles,
    loadMs: Math.round(loadMs),
    indexMs: Math.round(indexMs),
    totalMs: Math.round(loadMs + indexMs),
    rssBeforeMb: Math.round(before.rss / MB),
    rssAfterMb: Math.round(after.rss / MB),
    rssPeakMb: Math.round(Math.max(peakRss, after.rss) / MB),
    // Heap still held once the store's rows are garbage: what the snapshot itself costs.
    snapshotHeapMb: Math.round((after.heapUsed - before.heapUsed) / MB),
  };
}
