import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { get } from "node:http";
import { migrateSchema } from "../../src/store/sql-migrate.js";
import { openTestDatabase } from "../support/databases.js";
import { freePort } from "../support/free-port.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import { buildOnce, ROOT } from "./build.js";
import { startChild } from "./child.js";
import { imageNodeArgs } from "./image-command.js";
import { cpuMicros, runLoad, type LoadResult } from "./load.js";
import { BENCH_API_TOKEN } from "./seed.js";
import { seedWorkloadSql } from "./seed-sql.js";
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
const MB_IN_KB = 1024;

/**
 * The sidecar as the image runs it: `npm run build`, then the image's CMD (`node dist/main.js` with the node flags
 * the Dockerfile gives, NODE_ENV=production) on a fresh
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
  const [webhookPort, adminPort, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const env = {
    PATH: process.env.PATH ?? "",
    NODE_ENV: "production",
    JWKS_URL: options.issuer.jwksUrl,
    JWT_ISSUER: options.issuer.url,
    JWT_AUDIENCE: options.issuer.audience,
    ROLEMAPPER_API_TOKENS: BENCH_API_TOKEN,
    WEBHOOK_PORT: String(webhookPort),
    ADMIN_HTTP_HOST: "127.0.0.1",
    ADMIN_HTTP_PORT: String(adminPort),
    GRPC_HOST: "127.0.0.1",
    GRPC_PORT: String(grpcPort),
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: String(metricsPort),
    LOG_LEVEL: "warn",
    SHUTDOWN_DRAIN_S: "0",
    ...storeEnv,
  };
  const started = performance.now();
  const child = spawn(process.execPath, imageNodeArgs(), {
    cwd: ROOT,
    env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await untilReady(webhookPort, child, () => output);
    const readyMs = Math.round(performance.now() - started);
    const readyCpuMs = Math.round(cpuMicros(child.pid as number) / 1000);
    await new Promise((resolve) => setTimeout(resolve, options.idleMs));
    const rssIdleMb = memory(child, "VmRSS");
    // Each caller once first: its token verified and cached, so the timed load is of warm decisions.
    await runLoad({
      port: webhookPort,
      bodies: options.bodies,
      connections: 64,
      amount: options.bodies.length,
    });
    const load = await runLoad({
      port: webhookPort,
      bodies: options.bodies,
      connections: 64,
      duration: options.loadSeconds,
      pid: child.pid,
    });
    return {
      store,
      grantRows,
      readyMs,
      readyCpuMs,
      rssIdleMb,
      rssLoadedMb: memory(child, "VmRSS"),
      rssPeakMb: memory(child, "VmHWM"),
      load,
    };
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

// Polls /readyz on fresh connections every few milliseconds: the figure's resolution.
async function untilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the sidecar exited (${child.exitCode}):\n${output()}`);
    if ((await readyz(port)) === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`the sidecar was not ready within 60 s:\n${output()}`);
}

function readyz(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/readyz", agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
  });
}

// The kernel's own account of the process's memory (Linux), in MB.
function memory(child: ChildProcess, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${child.pid}/status`);
  return Math.round(Number(kb) / MB_IN_KB);
}
