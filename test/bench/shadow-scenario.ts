import { readFileSync } from "node:fs";
import { startChild, type Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { describe } from "./report.js";
import { startSidecar } from "./sidecar-scenarios.js";
import { grpcApi, seedOverGrpc } from "./seed.js";
import type { Workload, WorkloadSize } from "./workload.js";

/**
 * The shadow mode's cost on the warm path: the sidecar alone, then with SHADOW_WEBHOOK_URL set to the previous
 * webhook's stand-in (its own process, the same mapping) at SHADOW_SAMPLE=1, then alone again; the ratio is to the
 * mean of the two runs alone, in throughput and in the sidecar's own CPU time per request (the stand-in shares the
 * machine's cores, which a deployed previous service does not). The comparisons' results come from the metrics.
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
  const before = await warmRun(ctx, warmBodies, {}, workload);
  ctx.log(
    `warm decisions, no shadow: ${describe(before.load)}, sidecar CPU ${before.cpuUsPerRequest} µs/request`,
  );
  const shadowed = await warmRun(ctx, warmBodies, {
    SHADOW_WEBHOOK_URL: previous.info.url,
    SHADOW_SAMPLE: "1",
  });
  ctx.log(
    `warm decisions, shadow mode (SHADOW_SAMPLE=1, the previous webhook's stand-in answering): ` +
      `${describe(shadowed.load)}, sidecar CPU ${shadowed.cpuUsPerRequest} µs/request; ` +
      `comparisons ${JSON.stringify(shadowed.comparisons)}`,
  );
  const after = await warmRun(ctx, warmBodies, {});
  ctx.log(
    `warm decisions, no shadow (again): ${describe(after.load)}, sidecar CPU ${after.cpuUsPerRequest} µs/request`,
  );
  await ctx.stop(previous as Child<unknown>);
  const alone = (before.load.requestsPerSecond + after.load.requestsPerSecond) / 2;
  ctx.figures.shadow = {
    before: before.load,
    shadowed: shadowed.load,
    after: after.load,
    comparisons: shadowed.comparisons,
  };
  ctx.ratios.warmShadowToWarm = round(shadowed.load.requestsPerSecond / alone, 3);
  const cpuAlone = (before.cpuUsPerRequest + after.cpuUsPerRequest) / 2;
  ctx.ratios.warmShadowCpuPerRequestToWarm = round(shadowed.cpuUsPerRequest / cpuAlone, 3);
}

// One sidecar on the run's data directory (seeded by the first), warmed up, then a timed warm run.
async function warmRun(
  ctx: BenchContext,
  bodies: readonly string[],
  env: Record<string, string>,
  seed?: Workload,
): Promise<{ load: LoadResult; comparisons: Record<string, number>; cpuUsPerRequest: number }> {
  const sidecar = await startSidecar(ctx, "warn", env);
  if (seed) {
    const { api, close } = grpcApi(sidecar.info.grpcPort);
    await seedOverGrpc(api, seed);
    close();
  }
  const port = sidecar.info.webhookPort;
  await runLoad({ port, bodies, connections: CONNECTIONS, amount: 2_000 });
  const cpuBefore = cpuMicros(sidecar.process.pid);
  const load = await runLoad({ port, bodies, connections: CONNECTIONS, duration: ctx.plan.seconds });
  const cpuUsPerRequest = round((cpuMicros(sidecar.process.pid) - cpuBefore) / load.requests, 1);
  const comparisons = await shadowComparisons(sidecar.info.metricsPort);
  await ctx.stop(sidecar as Child<unknown>);
  return { load, comparisons, cpuUsPerRequest };
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
