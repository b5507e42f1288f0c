import { startChild, type Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { describe } from "./report.js";
import { profiled, startSidecar } from "./sidecar-scenarios.js";
import { grpcApi, seedOverGrpc } from "./seed.js";
import { measureShadowPairs } from "./shadow-pairs.js";
import { perRequest, shadowComparisons, threadCpuMicros } from "./shadow-probes.js";
import type { Workload, WorkloadSize } from "./workload.js";

/**
 * The shadow mode's cost on the warm path: at full load, the sidecar alone, then with SHADOW_WEBHOOK_URL set to the
 * previous webhook's stand-in (its own process, the same mapping) at SHADOW_SAMPLE=1, then alone again; the ratio is
 * to the mean of the two runs alone, in throughput and in the sidecar's own CPU time per request, all its threads'
 * and its main thread's (the answer path) apart (the stand-in shares the machine's cores, which a deployed previous
 * service does not). At full load the stand-in cannot keep up
 * and most comparisons are skipped, and fewer requests per event-loop turn cost more CPU each; so the shadow mode's
 * own cost is measured at an even rate, every request compared, with and without it at the same time
 * (measureShadowPairs). The comparisons' results come from the metrics.
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
  const shadowEnv = { SHADOW_WEBHOOK_URL: previous.info.url, SHADOW_SAMPLE: "1" };
  const before = await warmRun(ctx, "shadow-off", warmBodies, {}, workload);
  report(ctx, "no shadow", before);
  const shadowed = await warmRun(ctx, "shadow-on", warmBodies, shadowEnv);
  report(ctx, "shadow mode (SHADOW_SAMPLE=1, the previous webhook's stand-in answering)", shadowed);
  const after = await warmRun(ctx, "shadow-off-again", warmBodies, {});
  report(ctx, "no shadow (again)", after);
  await measureShadowPairs(ctx, shadowEnv, warmBodies);
  await ctx.stop(previous as Child<unknown>);
  const alone = (before.load.requestsPerSecond + after.load.requestsPerSecond) / 2;
  ctx.figures.shadow = { before, shadowed, after };
  ctx.ratios.warmShadowToWarm = round(shadowed.load.requestsPerSecond / alone, 3);
  const cpuAlone = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2;
  ctx.ratios.warmShadowCpuPerRequestToWarm = round(shadowed.cpuUsPerRequest / cpuAlone, 3);
  const mainAlone = (before.mainThreadCpuUsPerRequest + after.mainThreadCpuUsPerRequest) / 2;
  ctx.ratios.warmShadowMainThreadCpuPerRequestToWarm = round(
    shadowed.mainThreadCpuUsPerRequest / mainAlone,
    3,
  );
}

interface ShadowRun {
  readonly load: LoadResult;
  readonly comparisons: Record<string, number>;
  readonly cpuUsPerRequest: number;
  /** The main thread's, whose event loop answers Hasura. */
  readonly mainThreadCpuUsPerRequest: number;
}

function report(ctx: BenchContext, what: string, run: ShadowRun): void {
  ctx.log(
    `warm decisions, ${what}: ${describe(run.load)}, sidecar CPU ${run.cpuUsPerRequest} µs/request ` +
      `(main thread ${run.mainThreadCpuUsPerRequest})` +
      (Object.keys(run.comparisons).length ? `; comparisons ${JSON.stringify(run.comparisons)}` : ""),
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
  const cpuBefore = threadCpuMicros(pid);
  const load = await profiled(ctx, sidecar, name, () =>
    runLoad({ port, bodies, connections: CONNECTIONS, duration: ctx.plan.seconds }),
  );
  const cpu = perRequest(threadCpuMicros(pid), cpuBefore, load.requests);
  const comparisons = await shadowComparisons(sidecar.info.metricsPort);
  await ctx.stop(sidecar as Child<unknown>);
  return { load, comparisons, cpuUsPerRequest: cpu.process, mainThreadCpuUsPerRequest: cpu.main };
}
