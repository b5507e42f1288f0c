import { groupSubject, userSubject } from "../../src/core/subjects.js";
import { startChild, type Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { timeOldWayRequests } from "./old-way.js";
import { describe } from "./report.js";
import { runSidecarScenarios, startSidecar, type SidecarFigures } from "./sidecar-scenarios.js";
import type { Workload, WorkloadSize } from "./workload.js";

const ADMIN_SECRET = "bench-admin-secret";

/**
 * The two baselines (express and bare node:http) before and after; between them the sidecar's scenarios
 * (`sidecar`) and the old way (`oldWay`). Every throughput is compared with the baselines of this run.
 */
export async function runWebhookScenarios(
  ctx: BenchContext,
  run: { sidecar: boolean; oldWay: boolean },
  workload: Workload,
  size: WorkloadSize,
  warmBodies: readonly string[],
): Promise<void> {
  // Every process starts at once (start-up is the slow part of a quick run); idle ones cost nothing.
  const [expressChild, nodeHttpChild, sidecar, oldWayChildren] = await Promise.all([
    startChild<{ port: number }>("./target-baseline.ts").then((child) => ctx.track(child)),
    startChild<{ port: number }>("./target-node-http.ts").then((child) => ctx.track(child)),
    run.sidecar ? startSidecar(ctx, "warn") : undefined,
    run.oldWay ? startOldWay(ctx, size) : undefined,
  ]);
  ctx.log("targets started");
  const baselines = { express: expressChild.info.port, nodeHttp: nodeHttpChild.info.port };
  const baselineChildren = { express: expressChild, nodeHttp: nodeHttpChild };
  const before = await measureBaselines(ctx, baselineChildren, warmBodies);
  const sidecarFigures = sidecar
    ? await runSidecarScenarios(ctx, sidecar, workload, warmBodies, baselines)
    : undefined;
  const oldWay = oldWayChildren ? await oldWayScenario(ctx, oldWayChildren, workload, warmBodies) : undefined;
  const after = await measureBaselines(ctx, baselineChildren, warmBodies);
  await ctx.stop(expressChild as Child<unknown>);
  await ctx.stop(nodeHttpChild as Child<unknown>);

  const express = (before.express.requestsPerSecond + after.express.requestsPerSecond) / 2;
  const nodeHttp = (before.nodeHttp.requestsPerSecond + after.nodeHttp.requestsPerSecond) / 2;
  Object.assign(ctx.figures, {
    baseline: { before: before.express, after: after.express, meanRequestsPerSecond: round(express) },
    nodeHttpBaseline: {
      before: before.nodeHttp,
      after: after.nodeHttp,
      meanRequestsPerSecond: round(nodeHttp),
    },
    expressToNodeHttp: round(express / nodeHttp, 3),
  });
  if (sidecarFigures) {
    Object.assign(ctx.ratios, sidecarRatios(sidecarFigures, express, nodeHttp));
    Object.assign(ctx.ratios, cpuRatios(sidecarFigures, [before.nodeHttp, after.nodeHttp]));
  }
  if (sidecarFigures && oldWay)
    ctx.ratios.warmToOldWay = round(sidecarFigures.warm.requestsPerSecond / oldWay.requestsPerSecond, 1);
}

function sidecarRatios(figures: SidecarFigures, express: number, nodeHttp: number): Record<string, number> {
  const { warm, cold, warmLogged } = figures;
  return {
    warmToBaseline: round(warm.requestsPerSecond / express, 3),
    warmToNodeHttp: round(warm.requestsPerSecond / nodeHttp, 3),
    ...(warmLogged
      ? {
          warmWithDecisionLogToBaseline: round(warmLogged.requestsPerSecond / express, 3),
          warmWithDecisionLogToNodeHttp: round(warmLogged.requestsPerSecond / nodeHttp, 3),
        }
      : {}),
    coldToBaseline: round(cold.requestsPerSecond / express, 3),
    coldToNodeHttp: round(cold.requestsPerSecond / nodeHttp, 3),
  };
}

type BaselineChild = Child<{ port: number }>;

// The same comparison by CPU time per answer: what the rates would show on cores the run had to itself.
function cpuRatios(figures: SidecarFigures, nodeHttpRuns: readonly LoadResult[]): Record<string, number> {
  const perRequest = nodeHttpRuns.map((run) => run.cpuUsPerRequest ?? NaN);
  const nodeHttp = (perRequest[0]! + perRequest[1]!) / 2;
  const ratio = (run: LoadResult) => round(nodeHttp / (run.cpuUsPerRequest ?? NaN), 3);
  const ratios = { warmToNodeHttpByCpu: ratio(figures.warm), coldToNodeHttpByCpu: ratio(figures.cold) };
  return Object.fromEntries(Object.entries(ratios).filter(([, value]) => Number.isFinite(value)));
}

async function measureBaselines(
  ctx: BenchContext,
  children: { express: BaselineChild; nodeHttp: BaselineChild },
  bodies: readonly string[],
): Promise<{ express: LoadResult; nodeHttp: LoadResult }> {
  const express = await measureBaseline(ctx, children.express, bodies);
  ctx.log(`baseline, express (constant answer): ${describe(express)}`);
  const nodeHttp = await measureBaseline(ctx, children.nodeHttp, bodies);
  ctx.log(`baseline, bare node:http (constant answer): ${describe(nodeHttp)}`);
  return { express, nodeHttp };
}

async function measureBaseline(
  ctx: BenchContext,
  child: BaselineChild,
  bodies: readonly string[],
): Promise<LoadResult> {
  const { port } = child.info;
  await runLoad({ port, bodies, connections: CONNECTIONS, amount: 2_000 });
  const pid = child.process.pid;
  return runLoad({ port, bodies, connections: CONNECTIONS, duration: ctx.plan.seconds, pid });
}

async function startOldWay(ctx: BenchContext, size: WorkloadSize) {
  const standIn = ctx.track(
    await startChild<{ url: string; database: string }>("./target-stand-in.ts", {
      env: { BENCH_WORKLOAD: JSON.stringify(size), OLD_WAY_ADMIN_SECRET: ADMIN_SECRET },
    }),
  );
  const webhook = ctx.track(
    await startChild<{ port: number }>("./target-old-way.ts", {
      env: {
        OLD_WAY_GRAPHQL_URL: standIn.info.url,
        OLD_WAY_ADMIN_SECRET: ADMIN_SECRET,
        OLD_WAY_JWKS_URL: ctx.issuer.jwksUrl,
        OLD_WAY_ISSUER: ctx.issuer.url,
        OLD_WAY_AUDIENCE: ctx.issuer.audience,
      },
    }),
  );
  return { standIn, webhook };
}

async function oldWayScenario(
  ctx: BenchContext,
  children: Awaited<ReturnType<typeof startOldWay>>,
  workload: Workload,
  warmBodies: readonly string[],
): Promise<LoadResult> {
  ctx.log(`the old way's Hasura stand-in runs on ${children.standIn.info.database}`);
  const oldWay = await runLoad({
    port: children.webhook.info.port,
    bodies: warmBodies,
    connections: CONNECTIONS,
    duration: ctx.plan.seconds,
  });
  ctx.log(`the old way (introspection + 2 GraphQL round trips per request): ${describe(oldWay)}`);
  const caller = workload.callers[0]!;
  const oldWayRequests = await timeOldWayRequests(
    children.standIn.info.url,
    ADMIN_SECRET,
    { user: userSubject(caller.name), groups: caller.groups.map(groupSubject), fields: caller.rootFields },
    ctx.plan.quick ? 3 : 20,
  );
  ctx.log(`the old way's Hasura requests one at a time: ${JSON.stringify(oldWayRequests)} (mean ms)`);
  await ctx.stop(children.webhook as Child<unknown>);
  await ctx.stop(children.standIn as Child<unknown>);
  ctx.figures.oldWay = { ...oldWay, requestsOneAtATime: oldWayRequests };
  return oldWay;
}
