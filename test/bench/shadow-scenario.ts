import { readFileSync } from "node:fs";
import { startChild, type Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { runPacedLoadApart } from "./paced-load.js";
import { describe } from "./report.js";
import { profiled, startSidecar } from "./sidecar-scenarios.js";
import { grpcApi, seedOverGrpc } from "./seed.js";
import type { Workload, WorkloadSize } from "./workload.js";

/** The even rate of the paced runs: one the previous webhook's stand-in answers in full on the shared cores. */
const PACED_RATE = 400;

/**
 * The shadow mode's cost on the warm path: the sidecar alone, then with SHADOW_WEBHOOK_URL set to the previous
 * webhook's stand-in (its own process, the same mapping) at SHADOW_SAMPLE=1, then alone again; the ratio is to the
 * mean of the two runs alone, in throughput and in the sidecar's own CPU time per request (the stand-in shares the
 * machine's cores, which a deployed previous service does not). At full load the stand-in cannot keep up and most
 * comparisons are skipped, and fewer requests per event-loop turn cost more CPU each; so each run also sends an
 * even PACED_RATE req/s, where every request is compared, and the sidecar's CPU per request at that equal rate is
 * the shadow mode's own cost. The comparisons' results come from the metrics.
 */
export async function measureShadow(
  ctx: BenchContext,
  workload: Workload,
  size: WorkloadSize,
  warmBodies: readonly string[],
): Promise<void> {
  const previous = ctx.track(
    await startChild<{ url: string }>("./target-previous-service.ts", {
      env: {
        BENCH_WORKLOAD: JSON.stringify(size),
        PREVIOUS_JWKS_URL: ctx.issuer.jwksUrl,
        PREVIOUS_ISSUER: ctx.issuer.url,
        PREVIOUS_AUDIENCE: ctx.issuer.audience,
      },
    }),
  );
  const before = await warmRun(ctx, "shadow-off", warmBodies, {}, workload);
  report(ctx, "no shadow", before);
  const shadowed = await warmRun(ctx, "shadow-on", warmBodies, {
    SHADOW_WEBHOOK_URL: previous.info.url,
    SHADOW_SAMPLE: "1",
  });
  report(ctx, "shadow mode (SHADOW_SAMPLE=1, the previous webhook's stand-in answering)", shadowed);
  const after = await warmRun(ctx, "shadow-off-again", warmBodies, {});
  report(ctx, "no shadow (again)", after);
  await ctx.stop(previous as Child<unknown>);
  const alone = (before.load.requestsPerSecond + after.load.requestsPerSecond) / 2;
  ctx.figures.shadow = { before, shadowed, after, pacedRate: PACED_RATE };
  ctx.ratios.warmShadowToWarm = round(shadowed.load.requestsPerSecond / alone, 3);
  const cpuAlone = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2;
  ctx.ratios.warmShadowCpuPerRequestToWarm = round(shadowed.cpuUsPerRequest / cpuAlone, 3);
  const pacedAlone = (before.pacedCpuUsPerRequest + after.pacedCpuUsPerRequest) / 2;
  ctx.ratios.pacedShadowCpuPerRequestToWarm = round(shadowed.pacedCpuUsPerRequest / pacedAlone, 3);
}

interface ShadowRun {
  readonly load: LoadResult;
  readonly comparisons: Record<string, number>;
  readonly cpuUsPerRequest: number;
  readonly pacedCpuUsPerRequest: number;
  readonly pacedComparisons: Record<string, number>;
  /** The answers' latency at the even rate, as the generator sees it. */
  readonly pacedP50Ms: number;
  readonly pacedP99Ms: number;
}

function report(ctx: BenchContext, what: string, run: ShadowRun): void {
  ctx.log(
    `warm decisions, ${what}: ${describe(run.load)}, sidecar CPU ${run.cpuUsPerRequest} µs/request` +
      (Object.keys(run.comparisons).length ? `; comparisons ${JSON.stringify(run.comparisons)}` : ""),
  );
  ctx.log(
    `  at an even ${PACED_RATE} req/s: sidecar CPU ${run.pacedCpuUsPerRequest} µs/request, ` +
      `p50 ${run.pacedP50Ms} ms, p99 ${run.pacedP99Ms} ms` +
      (Object.keys(run.pacedComparisons).length
        ? `; comparisons ${JSON.stringify(run.pacedComparisons)}`
        : ""),
  );
}

// One sidecar on the run's data directory (seeded by the first), warmed up, then a timed warm run (profiled as
// `name` with --cpu-prof).
async function warmRun(
  ctx: BenchContext,
  name: string,
  bodies: readonly string[],
  env: Record<string, string>,
  seed?: Workload,
): Promise<ShadowRun> {
  const sidecar = await startSidecar(ctx, "warn", env);
  if (seed) {
    const { api, close } = grpcApi(sidecar.info.grpcPort);
    await seedOverGrpc(api, seed);
    close();
  }
  const port = sidecar.info.webhookPort;
  const pid = sidecar.process.pid;
  await runLoad({ port, bodies, connections: CONNECTIONS, amount: 2_000 });
  const cpuBefore = cpuMicros(pid);
  const load = await profiled(ctx, sidecar, name, () =>
    runLoad({ port, bodies, connections: CONNECTIONS, duration: ctx.plan.seconds }),
  );
  const cpuUsPerRequest = round((cpuMicros(pid) - cpuBefore) / load.requests, 1);
  const comparisons = await shadowComparisons(sidecar.info.metricsPort);
  const pacedCpuBefore = cpuMicros(pid);
  const paced = await profiled(ctx, sidecar, `${name}-paced`, () =>
    runPacedLoadApart({ port, bodies, connections: 16, seconds: ctx.plan.seconds, rate: PACED_RATE }),
  );
  const pacedCpuUsPerRequest = round((cpuMicros(pid) - pacedCpuBefore) / paced.requests, 1);
  const pacedComparisons = difference(await shadowComparisons(sidecar.info.metricsPort), comparisons);
  await ctx.stop(sidecar as Child<unknown>);
  const latency = { pacedP50Ms: paced.p50Ms, pacedP99Ms: paced.p99Ms };
  return { load, comparisons, cpuUsPerRequest, pacedCpuUsPerRequest, pacedComparisons, ...latency };
}

function difference(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}

// The sidecar's own CPU time (user + system, from /proc): on a shared machine, where the stand-in of the previous
// webhook competes for the same cores, this is the figure that belongs to the sidecar alone.
function cpuMicros(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1e6;
}

async function shadowComparisons(metricsPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^rolemapper_shadow_comparisons_total\{result="(\w+)"\} (\d+)/gm)) {
    counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}
