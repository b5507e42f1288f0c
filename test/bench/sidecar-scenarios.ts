import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { startChild, type Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { runPacedLoadApart, type PacedLoadResult } from "./paced-load.js";
import { profileWindow } from "./profiler.js";
import { describe, describePaced } from "./report.js";
import { BENCH_API_TOKEN, grpcApi, measureWrites, seedOverGrpc } from "./seed.js";
import { signTokens, webhookBody } from "./tokens.js";
import type { Workload } from "./workload.js";

/** The ports of the two constant-answer baselines. */
export interface BaselinePorts {
  readonly express: number;
  readonly nodeHttp: number;
}

/** The sidecar's throughput figures, for the ratios to the baselines. */
export interface SidecarFigures {
  readonly warm: LoadResult;
  readonly cold: LoadResult;
  /** Full runs only. */
  readonly warmLogged: LoadResult | undefined;
}

type SidecarChild = Child<{ webhookPort: number; adminPort: number; grpcPort: number; metricsPort: number }>;

const COLD_WARM_UP = 1_000;

/**
 * The sidecar as deployed (embedded store, `target-sidecar.ts`): seeded over gRPC, then warm decisions, the
 * even 1,000 req/s runs, cold tokens and writes; in a full run also warm decisions with every decision logged.
 */
export async function runSidecarScenarios(
  ctx: BenchContext,
  sidecar: SidecarChild,
  workload: Workload,
  warmBodies: readonly string[],
  baselines: BaselinePorts,
): Promise<SidecarFigures> {
  const { api, close } = grpcApi(sidecar.info.grpcPort);
  const seeding = performance.now();
  await seedOverGrpc(api, workload);
  ctx.log(`seeded ${workload.roles.length} roles over gRPC in ${Math.round(performance.now() - seeding)} ms`);
  const port = sidecar.info.webhookPort;
  await runLoad({ port, bodies: warmBodies, connections: CONNECTIONS, amount: 2_000 });
  const pid = sidecar.process.pid;
  const warm = await profiled(ctx, sidecar, "warm", () =>
    runLoad({ port, bodies: warmBodies, connections: CONNECTIONS, duration: ctx.plan.seconds, pid }),
  );
  ctx.log(`warm decisions (LOG_LEVEL=warn): ${describe(warm)}`);
  await pacedScenarios(ctx, port, baselines, warmBodies);
  const cold = await coldScenario(ctx, sidecar, workload);

  const writes = await measureWrites(api, ctx.plan.upserts);
  ctx.log(
    `writes: SetUserRoles 10,000 users ${writes.setUserRoles10kMs} ms (replacing half: ${writes.setUserRoles10kReplaceMs} ms); ` +
      `${writes.upsertRoleSequential} sequential UpsertRole ${writes.upsertRoleTotalMs} ms (${writes.upsertRoleMeanMs} ms each)`,
  );
  ctx.figures.writes = { ...writes, ...(ctx.figures.writes as object | undefined) };
  close();
  await ctx.stop(sidecar as Child<unknown>);

  const warmLogged = ctx.plan.logged ? await loggedScenario(ctx, warmBodies) : undefined;
  Object.assign(ctx.figures, { warm, cold, warmWithDecisionLog: warmLogged ?? "full run only" });
  return { warm, cold, warmLogged };
}

/** The benchmark sidecar (`target-sidecar.ts`) on the run's data directory, trusting the run's issuer. */
export async function startSidecar(
  ctx: BenchContext,
  level: "warn" | "info",
  extraEnv: Record<string, string> = {},
): Promise<SidecarChild> {
  const child = await startChild<SidecarChild["info"]>("./target-sidecar.ts", {
    env: {
      JWKS_URL: ctx.issuer.jwksUrl,
      JWT_ISSUER: ctx.issuer.url,
      JWT_AUDIENCE: ctx.issuer.audience,
      ROLEMAPPING_STORE: "embedded",
      ROLEMAPPING_DATA_DIR: ctx.dataDir,
      ROLEMAPPER_API_TOKENS: BENCH_API_TOKEN,
      WEBHOOK_PORT: "0",
      ADMIN_HTTP_HOST: "127.0.0.1",
      ADMIN_HTTP_PORT: "0",
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: "0",
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: "0",
      LOG_LEVEL: level,
      MAX_SUBJECTS_PER_CALL: "100000",
      ...extraEnv,
    },
  });
  return ctx.track(child);
}

// The sidecar and both baselines at the same even pace: what the sidecar adds to the machine's own tail.
async function pacedScenarios(
  ctx: BenchContext,
  port: number,
  baselines: BaselinePorts,
  bodies: readonly string[],
): Promise<void> {
  const paced = (target: number) =>
    runPacedLoadApart({ port: target, bodies, connections: 16, seconds: ctx.plan.seconds, rate: 1_000 });
  const sidecar = await paced(port);
  ctx.log(`warm decisions at 1,000 req/s: ${describePaced(sidecar)}`);
  const express = await paced(baselines.express);
  ctx.log(`express baseline at 1,000 req/s: ${describePaced(express)}`);
  const nodeHttp = await paced(baselines.nodeHttp);
  ctx.log(`node:http baseline at 1,000 req/s: ${describePaced(nodeHttp)}`);
  Object.assign(ctx.figures, {
    warmAt1000PerSecond: sidecar,
    baselineAt1000PerSecond: express,
    nodeHttpAt1000PerSecond: nodeHttp,
  });
  const over = (baseline: PacedLoadResult, at: "p50Ms" | "p99Ms") => round(sidecar[at] - baseline[at], 3);
  Object.assign(ctx.ratios, {
    pacedP99OverBaselineMs: over(express, "p99Ms"),
    pacedP50OverBaselineMs: over(express, "p50Ms"),
    pacedP99OverNodeHttpMs: over(nodeHttp, "p99Ms"),
    pacedP50OverNodeHttpMs: over(nodeHttp, "p50Ms"),
  });
}

async function coldScenario(
  ctx: BenchContext,
  sidecar: SidecarChild,
  workload: Workload,
): Promise<LoadResult> {
  const callerOf = (i: number) =>
    workload.callers[i % workload.callers.length] as Workload["callers"][number];
  const coldTokens = signTokens(
    ctx.issuer,
    Array.from({ length: COLD_WARM_UP + ctx.plan.coldTokens }, (_, i) => ({
      unique_name: callerOf(i).name,
      groups: callerOf(i).groups,
    })),
    1_000_000,
  );
  const coldBodies = coldTokens.map((token, i) => webhookBody(token, request(callerOf(i)), `cold-${i}`));
  const port = sidecar.info.webhookPort;
  // The first tokens only warm the verification path (JIT): a short run would otherwise mostly measure that.
  const warmUp = coldBodies.slice(0, COLD_WARM_UP);
  await runLoad({ port, bodies: warmUp, connections: CONNECTIONS, amount: COLD_WARM_UP });
  const cold = await profiled(ctx, sidecar, "cold", () =>
    runLoad({
      port,
      bodies: coldBodies.slice(COLD_WARM_UP),
      connections: CONNECTIONS,
      amount: ctx.plan.coldTokens,
      pid: sidecar.process.pid,
    }),
  );
  ctx.log(`cold tokens (every token new): ${describe(cold)}`);
  return cold;
}

// The same mapping (with the write scenario's roles too), every decision logged at info.
async function loggedScenario(ctx: BenchContext, warmBodies: readonly string[]): Promise<LoadResult> {
  const logged = await startSidecar(ctx, "info");
  const port = logged.info.webhookPort;
  await runLoad({ port, bodies: warmBodies, connections: CONNECTIONS, amount: 2_000 });
  const result = await runLoad({
    port,
    bodies: warmBodies,
    connections: CONNECTIONS,
    duration: ctx.plan.seconds,
  });
  ctx.log(`warm decisions (LOG_LEVEL=info, one audit line per decision to /dev/null): ${describe(result)}`);
  await ctx.stop(logged as Child<unknown>);
  return result;
}

/** With --cpu-prof DIR: a CPU profile of the sidecar during `work` alone, written to DIR/<name>.cpuprofile. */
export async function profiled<T>(
  ctx: BenchContext,
  sidecar: Child<unknown>,
  name: string,
  work: () => Promise<T>,
): Promise<T> {
  const dir = ctx.profileDir;
  if (dir === undefined) return work();
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, `${name}.cpuprofile`);
  const result = await profileWindow(sidecar, path, work);
  ctx.log(`CPU profile of the sidecar: ${path}`);
  return result;
}

/** The GraphQL request a caller sends. */
export function request(caller: Workload["callers"][number]) {
  return { query: caller.query, operationName: caller.operationName, variables: caller.variables };
}
