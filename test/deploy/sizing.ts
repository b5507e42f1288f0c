/**
 * How much memory the sidecar needs for a mapping size: the figures of deploy/README.md ("Memory").
 *
 *   npm run build && npx tsx test/deploy/sizing.ts --grants 100000 [--heap 256] [--stores postgres,hasura] [--wait-s 60]
 *
 * Runs the built sidecar as the image does (`node dist/main.js`, NODE_ENV=production, NODE_OPTIONS from --heap)
 * on a fresh PostgreSQL database holding the bench workload padded to --grants grant rows, directly
 * (ROLEMAPPING_STORE=postgres) and through the Hasura stand-in, with SNAPSHOT_SYNC=full and SNAPSHOT_REFRESH_S=5
 * so that full reloads happen while it waits. Prints one JSON line per store: RSS once ready, and the high-water mark (VmHWM) after
 * --wait-s seconds of reloads. Needs PostgreSQL (TEST_DATABASE_URL) and Linux (/proc).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { openPgClient } from "../../src/store/pg-client.js";
import { migrateSchema } from "../../src/store/sql-migrate.js";
import { startChild } from "../bench/child.js";
import { seedWorkloadSql } from "../bench/seed-sql.js";
import { buildWorkload } from "../bench/workload.js";
import { openTestDatabase } from "../support/databases.js";
import { freePort } from "../support/free-port.js";
import { ROOT } from "./manifests.js";

const { values: args } = parseArgs({
  options: {
    grants: { type: "string", default: "100000" },
    heap: { type: "string" },
    stores: { type: "string", default: "postgres,hasura" },
    "wait-s": { type: "string", default: "60" },
  },
});
const ADMIN_SECRET = "sizing-admin-secret";
const stores = new Set(args.stores.split(","));

// The kernel's account of a process's memory, in MiB.
const mebibytes = (pid: number, field: "VmRSS" | "VmHWM") =>
  Math.round(
    Number(
      new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1],
    ) / 1024,
  );

async function measure(store: string, storeEnv: Record<string, string>, grants: number): Promise<object> {
  const metricsPort = await freePort();
  const child = spawn(process.execPath, ["dist/main.js"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      ...(args.heap ? { NODE_OPTIONS: `--max-old-space-size=${args.heap}` } : {}),
      JWKS_URL: "https://idp.example.com/keys",
      ROLEMAPPER_API_TOKENS: "sizing:0123456789abcdef0123",
      WEBHOOK_PORT: String(await freePort()),
      ADMIN_HTTP_HOST: "127.0.0.1",
      ADMIN_HTTP_PORT: String(await freePort()),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(await freePort()),
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
      SNAPSHOT_SYNC: "full",
      SNAPSHOT_REFRESH_S: "5",
      STORE_TIMEOUT_MS: "600000",
      ...storeEnv,
    },
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    const started = performance.now();
    while (
      (await fetch(`http://127.0.0.1:${metricsPort}/readyz`).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      if (child.exitCode !== null)
        throw new Error(`the sidecar exited (${child.exitCode}) before it was ready`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const readyS = Math.round((performance.now() - started) / 100) / 10;
    const readyMiB = mebibytes(child.pid!, "VmRSS");
    await new Promise((resolve) => setTimeout(resolve, Number(args["wait-s"]) * 1000));
    if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}) during the reloads`);
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const loads = /^rolemapper_store_call_duration_seconds_count\{method="loadAll"\} (\S+)/m.exec(
      metrics,
    )?.[1];
    return {
      store,
      grants,
      heap: args.heap ?? "default",
      readyS,
      readyMiB,
      peakMiB: mebibytes(child.pid!, "VmHWM"),
      loads,
    };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

const database = await openTestDatabase("postgres");
try {
  // A longer statement timeout than the tests' client: a million rows are written in one statement.
  const seeder = openPgClient({
    connectionString: database.url!,
    maxConnections: 1,
    statementTimeoutMs: 1_200_000,
  });
  await migrateSchema(seeder, "rolemapping");
  const workload = buildWorkload({ roles: 300, groups: 100, users: 1_000, groupsPerUser: 5 });
  const grants = await seedWorkloadSql(seeder, workload, Number(args.grants));
  await seeder.close();
  if (stores.has("postgres"))
    console.log(
      JSON.stringify(
        await measure("postgres", { ROLEMAPPING_STORE: "postgres", DATABASE_URL: database.url! }, grants),
      ),
    );
  if (stores.has("hasura")) {
    const standIn = await startChild<{ url: string }>("./target-stand-in.ts", {
      env: { BENCH_DATABASE_URL: database.url!, OLD_WAY_ADMIN_SECRET: ADMIN_SECRET },
    });
    try {
      const env = { GRAPHQL_URL: standIn.info.url, GRAPHQL_ADMIN_SECRET: ADMIN_SECRET };
      console.log(JSON.stringify(await measure("hasura", env, grants)));
    } finally {
      await standIn.stop();
    }
  }
} finally {
  await database.drop();
}
