import { migrateSchema } from "../../src/store/sql-migrate.js";
import { openTestDatabase } from "../support/databases.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import { buildOnce } from "./build.js";
import { startChild } from "./child.js";
import { imageEnv, imageNodeArgs } from "./image-command.js";
import { cpuMicros, runLoad, type LoadResult } from "./load.js";
import { seedWorkloadSql } from "./seed-sql.js";
import { procStatusMb, startSidecar } from "./sidecar-process.js";
import type { Workload } from "./workload.js";

/** Start-up time and resident memory of one built sidecar process. */
export interface FootprintFigure {
  readonly store: "postgres" | "hasura";
  readonly grantRows: number;
  /** From spawning `node dist/main.js` to the first `/readyz` 200. */
  readonly readyMs: number;
  /** CPU time the process had used by then: the start-up's cost, hardly moved by other processes on the cores. */
  readonly readyCpuMs: number;
  /** Resident set once ready and idle for a moment. */
  readonly rssIdleMb: number;
  /** Resident set at the end of the warm load. */
  readonly rssLoadedMb: number;
  /** The process's highest resident set (start-up included). */
  readonly rssPeakMb: number;
  readonly load: LoadResult;
}

/** What the footprint scenario runs. */
export interface FootprintOptions {
  readonly issuer: JwksIssuer;
  readonly workload: Workload;
  /** Webhook bodies of the workload's callers (tokens of `issuer`). */
  readonly bodies: readonly string[];
  readonly grantRows: number;
  readonly idleMs: number;
  readonly loadSeconds: number;
  /** Also through the Hasura store, the stand-in serving the same database. */
  readonly hasura: boolean;
}

const ADMIN_SECRET = "bench-footprint-admin-secret";

/**
 * The sidecar as the image runs it: `npm run build`, then the image's CMD (`node dist/main.js` with the node flags
 * the Dockerfile gives, and the variables its ENV lines set: NODE_ENV=production, the allocator's) on a fresh
 * PostgreSQL database holding the workload's mapping padded to `grantRows` grant rows, then the same through
 * the Hasura stand-in. Needs PostgreSQL and Linux (/proc).
 */
export async function measureFootprint(options: FootprintOptions): Promise<FootprintFigure[]> {
  buildOnce();
  const database = await openTestDatabase("postgres");
  try {
    await migrateSchema(database.client, "rolemapping");
    const grantRows = await seedWorkloadSql(database.client, options.workload, options.grantRows);
    const url = database.url as string;
    const figures = [
      await measureProcess(options, "postgres", grantRows, {
        ROLEMAPPING_STORE: "postgres",
        DATABASE_URL: url,
      }),
    ];
    if (options.hasura) {
      const standIn = await startChild<{ url: string }>("./target-stand-in.ts", {
        env: { BENCH_DATABASE_URL: url, OLD_WAY_ADMIN_SECRET: ADMIN_SECRET },
      });
      try {
        figures.push(
          await measureProcess(options, "hasura", grantRows, {
            GRAPHQL_URL: standIn.info.url,
            GRAPHQL_ADMIN_SECRET: ADMIN_SECRET,
          }),
        );
      } finally {
        await standIn.stop();
      }
    }
    return figures;
  } finally {
    await database.drop();
  }
}

async function measureProcess(
  options: FootprintOptions,
  store: FootprintFigure["store"],
  grantRows: number,
  storeEnv: Record<string, string>,
): Promise<FootprintFigure> {
  // Polled every 2 ms: the start-up figure's resolution.
  const sidecar = await startSidecar({
    issuer: options.issuer,
    nodeArgs: imageNodeArgs(),
    env: { ...imageEnv(), ...storeEnv },
    readyTimeoutMs: 60_000,
    pollMs: 2,
  });
  const { pid, webhookPort: port, readyMs } = sidecar;
  try {
    const readyCpuMs = Math.round(cpuMicros(pid) / 1000);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    const rssIdleMb = memory(pid, "VmRSS");
    // Each caller once first: its token verified and cached, so the timed load is of warm decisions.
    await runLoad({ port, bodies: options.bodies, connections: 64, amount: options.bodies.length });
    const load = await runLoad({
      port,
      bodies: options.bodies,
      connections: 64,
      duration: options.loadSeconds,
      pid,
    });
    return {
      store,
      grantRows,
      readyMs,
      readyCpuMs,
      rssIdleMb,
      rssLoadedMb: memory(pid, "VmRSS"),
      rssPeakMb: memory(pid, "VmHWM"),
      load,
    };
  } finally {
    await sidecar.stop();
  }
}

const memory = (pid: number, field: "VmRSS" | "VmHWM"): number => Math.round(procStatusMb(pid, field));
