import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Child } from "./child.js";
import { CONNECTIONS, type BenchContext } from "./context.js";
import { percentile, round, runLoad } from "./load.js";
import { runPacedLoadApart } from "./paced-load.js";
import { profiled, startSidecar } from "./sidecar-scenarios.js";
import { difference, perRequest, residentMb, shadowComparisons, threadCpuMicros } from "./shadow-probes.js";

/** The even rate of each stream: one the previous webhook's stand-in answers in full on the shared cores. */
const PACED_RATE = 400;

/** Simultaneous pairs, each ctx.plan.seconds long: their median ratio is the figure, their spread its noise. */
const PAIRS = 3;

type SidecarChild = Awaited<ReturnType<typeof startSidecar>>;

/** One sidecar's share of a pair: its own CPU per request (all threads, and the main one) and its latency. */
interface PacedSide {
  readonly cpuUsPerRequest: number;
  /** The main thread's, whose event loop answers Hasura. */
  readonly mainThreadCpuUsPerRequest: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly failed: number;
}

interface Pair {
  readonly shadowStartedFirst: boolean;
  readonly shadowed: PacedSide;
  readonly alone: PacedSide;
  readonly comparisons: Record<string, number>;
  readonly cpuRatio: number;
  readonly mainThreadCpuRatio: number;
}

/**
 * Two sidecars at once, one with `shadowEnv` and one without (on a copy of the run's data directory), each sent
 * its own even PACED_RATE req/s of the same warm requests at the same time, so that both share the machine's
 * conditions; PAIRS such pairs, alternating which stream starts first. Reports the median ratio of their CPU per
 * request and the latency the shadow mode adds.
 */
export async function measureShadowPairs(
  ctx: BenchContext,
  shadowEnv: Record<string, string>,
  bodies: readonly string[],
): Promise<void> {
  const twin = mkdtempSync(join(tmpdir(), "rolemapper-bench-twin-"));
  cpSync(ctx.dataDir, twin, { recursive: true });
  const shadowed = await startSidecar(ctx, "warn", shadowEnv);
  const alone = await startSidecar(ctx, "warn", { ROLEMAPPING_DATA_DIR: twin });
  try {
    for (const sidecar of [shadowed, alone]) {
      await runLoad({ port: sidecar.info.webhookPort, bodies, connections: CONNECTIONS, amount: 2_000 });
    }
    const pairs: Pair[] = [];
    for (let i = 0; i < PAIRS; i++) pairs.push(await runPair(ctx, { shadowed, alone }, bodies, i));
    summarize(ctx, pairs);
    // Both after the same streams: the shadow mode's memory (its thread's included) is the difference.
    const memory = { shadowed: residentMb(shadowed.process.pid), alone: residentMb(alone.process.pid) };
    ctx.figures.shadowPacedMemory = memory;
    ctx.log(
      `after the pairs: with shadow ${memory.shadowed.rssMb} MB resident, ${memory.shadowed.threads} threads; ` +
        `without ${memory.alone.rssMb} MB, ${memory.alone.threads} threads`,
    );
  } finally {
    await ctx.stop(shadowed as Child<unknown>);
    await ctx.stop(alone as Child<unknown>);
    rmSync(twin, { recursive: true, force: true });
  }
}

async function runPair(
  ctx: BenchContext,
  sidecars: { shadowed: SidecarChild; alone: SidecarChild },
  bodies: readonly string[],
  index: number,
): Promise<Pair> {
  const shadowStartedFirst = index % 2 === 0;
  const metricsPort = sidecars.shadowed.info.metricsPort;
  const counted = await shadowComparisons(metricsPort);
  const shadowedSide = () => pacedSide(ctx, sidecars.shadowed, bodies, `shadow-on-paced-${index + 1}`);
  const aloneSide = () => pacedSide(ctx, sidecars.alone, bodies, `shadow-off-paced-${index + 1}`);
  const [shadowed, alone] = shadowStartedFirst
    ? await Promise.all([shadowedSide(), aloneSide()])
    : await Promise.all([aloneSide(), shadowedSide()]).then(([a, s]) => [s, a] as const);
  const comparisons = difference(await shadowComparisons(metricsPort), counted);
  const cpuRatio = round(shadowed.cpuUsPerRequest / alone.cpuUsPerRequest, 3);
  const mainThreadCpuRatio = round(shadowed.mainThreadCpuUsPerRequest / alone.mainThreadCpuUsPerRequest, 3);
  const pair = { shadowStartedFirst, shadowed, alone, comparisons, cpuRatio, mainThreadCpuRatio };
  ctx.log(
    `  pair ${index + 1} (${shadowStartedFirst ? "shadow" : "no shadow"} first): ${describePair(pair)}`,
  );
  return pair;
}

// One paced stream to `sidecar` (profiled as `name` with --cpu-prof), and the sidecar's CPU time meanwhile, its
// main thread's and all its threads'.
async function pacedSide(
  ctx: BenchContext,
  sidecar: SidecarChild,
  bodies: readonly string[],
  name: string,
): Promise<PacedSide> {
  const pid = sidecar.process.pid;
  const cpuBefore = threadCpuMicros(pid);
  const port = sidecar.info.webhookPort;
  const paced = await profiled(ctx, sidecar, name, () =>
    runPacedLoadApart({ port, bodies, connections: 16, seconds: ctx.plan.seconds, rate: PACED_RATE }),
  );
  const cpu = perRequest(threadCpuMicros(pid), cpuBefore, paced.requests);
  const failed = paced.non2xx + paced.errors;
  return {
    cpuUsPerRequest: cpu.process,
    mainThreadCpuUsPerRequest: cpu.main,
    requests: paced.requests,
    p50Ms: paced.p50Ms,
    p99Ms: paced.p99Ms,
    failed,
  };
}

function describePair(pair: Pair): string {
  const side = (s: PacedSide) =>
    `${s.cpuUsPerRequest} µs/request (main thread ${s.mainThreadCpuUsPerRequest}), p50 ${s.p50Ms} ms, ` +
    `p99 ${s.p99Ms} ms` +
    (s.failed ? `, ${s.failed} failed` : "");
  return (
    `with shadow ${side(pair.shadowed)}; without ${side(pair.alone)}; CPU ratio ${pair.cpuRatio} ` +
    `(main thread ${pair.mainThreadCpuRatio}); ` +
    `comparisons ${JSON.stringify(pair.comparisons)}`
  );
}

function summarize(ctx: BenchContext, pairs: readonly Pair[]): void {
  const median = (of: (pair: Pair) => number) =>
    round(
      percentile(
        [...pairs.map(of)].sort((a, b) => a - b),
        0.5,
      ),
      3,
    );
  const cpuRatios = pairs.map((pair) => pair.cpuRatio);
  const mainThreadCpuRatios = pairs.map((pair) => pair.mainThreadCpuRatio);
  Object.assign(ctx.ratios, {
    pacedShadowCpuPerRequestToWarm: median((pair) => pair.cpuRatio),
    pacedShadowMainThreadCpuPerRequestToWarm: median((pair) => pair.mainThreadCpuRatio),
    pacedShadowP50AddedMs: median((pair) => pair.shadowed.p50Ms - pair.alone.p50Ms),
    pacedShadowP99AddedMs: median((pair) => pair.shadowed.p99Ms - pair.alone.p99Ms),
  });
  ctx.figures.shadowPaced = {
    rate: PACED_RATE,
    seconds: ctx.plan.seconds,
    cpuRatios,
    mainThreadCpuRatios,
    pairs,
  };
  ctx.log(
    `at an even ${PACED_RATE} req/s each, simultaneously: CPU ratios ${cpuRatios.join(", ")}, median ` +
      `${ctx.ratios.pacedShadowCpuPerRequestToWarm}; main thread's ${mainThreadCpuRatios.join(", ")}, median ` +
      `${ctx.ratios.pacedShadowMainThreadCpuPerRequestToWarm}; added latency (median) p50 ${ctx.ratios.pacedShadowP50AddedMs} ms, ` +
      `p99 ${ctx.ratios.pacedShadowP99AddedMs} ms`,
  );
}
