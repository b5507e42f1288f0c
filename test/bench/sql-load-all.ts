/**
 * Loads a large mapping through SqlStore.loadAll and reports time and memory.
 * Usage: npx tsx test/bench/sql-load-all.ts [pglite|postgres] [grant rows, default 1000000]
 */
import { createSqlStore } from "../../src/store/sql-store.js";
import pg from "pg";
import { openTestDatabase } from "../support/databases.js";

const kind = process.argv[2] === "postgres" ? "postgres" : "pglite";
const grants = Number(process.argv[3] ?? 1_000_000);
const ROLES = 1_000;

const db = await openTestDatabase(kind);
try {
  const store = await createSqlStore({ client: db.client, migrate: true });
  // A server connection without the pool's statement timeout: seeding a million rows takes a while.
  const seeder = db.url ? new pg.Client({ connectionString: db.url }) : undefined;
  await seeder?.connect();
  const exec = async (text: string, params: unknown[]) => {
    if (seeder) await seeder.query(text, params);
    else await db.client.query(text, params);
  };
  const seeding = Date.now();
  // Seeded with set-based SQL: the store's own writes are not what is measured here.
  await exec(
    `INSERT INTO rolemapping.roles SELECT 'role-' || r, 'component-' || r FROM generate_series(1, $1) r`,
    [ROLES],
  );
  await exec(
    `INSERT INTO rolemapping.role_graphql_root_field_names
     SELECT 'role-' || r, 'field_' || r || '_' || f FROM generate_series(1, $1) r, generate_series(1, 3) f`,
    [ROLES],
  );
  const users = Math.floor(grants * 0.9);
  await exec(
    `INSERT INTO rolemapping.user_roles ("user", role_id, last_update)
     SELECT 'user:person-' || (g / 10) || '_corp.com', 'role-' || (g % $2 + 1), now() FROM generate_series(0, $1 - 1) g`,
    [users, ROLES],
  );
  await exec(
    `INSERT INTO rolemapping.group_roles ("group", role_id, last_update)
     SELECT 'group:team-' || (g / 10), 'role-' || (g % $2 + 1), now() FROM generate_series(0, $1 - 1) g`,
    [grants - users, ROLES],
  );
  await seeder?.end();
  console.log(`${kind}: seeded ${grants} grant rows over ${ROLES} roles in ${Date.now() - seeding} ms`);

  global.gc?.();
  const before = process.memoryUsage();
  const started = process.hrtime.bigint();
  let peakRss = before.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const data = await store.loadAll();
  clearInterval(sampler);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  const after = process.memoryUsage();
  const loaded = data.userGrants.length + data.groupGrants.length;
  console.log(
    `${kind}: loadAll returned ${data.roles.length} roles and ${loaded} grants in ${ms.toFixed(0)} ms; ` +
      `heap used ${mb(before.heapUsed)} → ${mb(after.heapUsed)} MB, rss ${mb(before.rss)} → peak ${mb(peakRss)} MB`,
  );
  if (loaded !== grants) throw new Error(`expected ${grants} grants, loaded ${loaded}`);
} finally {
  await db.drop();
}

function mb(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0);
}
