import type { LoadResult } from "./load.js";
import type { PacedLoadResult } from "./paced-load.js";
import type { ReplicaModeFigure } from "./replica-sync.js";

/** One line of a load run's figures, with a warning when any answer was not a 2xx. */
export function describe(result: LoadResult): string {
  const problems =
    result.non2xx + result.errors > 0 ? ` (${result.non2xx} non-2xx, ${result.errors} errors!)` : "";
  const cpu = result.cpuUsPerRequest === undefined ? "" : `, ${result.cpuUsPerRequest} µs CPU each`;
  return `${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.requests} requests${cpu}${problems}`;
}

/** One line of a paced run's figures. */
export function describePaced(result: PacedLoadResult): string {
  return `${describe(result)}, p90 ${result.p90Ms} ms, p99.9 ${result.p999Ms} ms, p99 from the schedule ${result.p99FromScheduleMs} ms, generator's loop delay p99 ${result.generatorLoopDelayP99Ms} ms`;
}

/** The Node version and cores the run had. */
export function machine() {
  return {
    node: process.version,
    cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency,
  };
}

/** Each target of the issues met or not, for the figures this run measured. */
export function targets(all: Record<string, unknown>): Record<string, boolean> {
  const r = (all.ratios ?? {}) as Record<string, number | undefined>;
  const paced = all.warmAt1000PerSecond as LoadResult | undefined;
  const writes = all.writes as { setUserRoles10kMs: number; store?: { transactions: number } } | undefined;
  const footprint = all.footprint as
    { readyMs: number; rssIdleMb: number; rssLoadedMb: number; hasura?: { readyMs: number } } | undefined;
  const replicas = (all.replicas as { modes: ReplicaModeFigure[] } | undefined)?.modes;
  const notify = replicas?.find((m) => m.mode === "journal-notify");
  const poll = replicas?.find((m) => m.mode === "journal-poll");
  const checks: Record<string, boolean | undefined> = {
    warmAtLeastHalfBaseline: r.warmToBaseline === undefined ? undefined : r.warmToBaseline >= 0.5,
    warmAtLeast0_7NodeHttp: r.warmToNodeHttp === undefined ? undefined : r.warmToNodeHttp >= 0.7,
    p99AtMost2msAt1000PerSecond: paced && paced.p99Ms <= 2,
    coldAtLeastQuarterBaseline: r.coldToBaseline === undefined ? undefined : r.coldToBaseline >= 0.25,
    roles100kWithin1_2x: r.roles100kTo10 === undefined ? undefined : r.roles100kTo10 <= 1.2,
    groups1000Within1_2x: r.groups1000To1 === undefined ? undefined : r.groups1000To1 <= 1.2,
    // The shadow mode's own cost: the sidecar's CPU per request at an equal, even rate, every request compared.
    shadowWithin10Percent:
      r.pacedShadowCpuPerRequestToWarm === undefined ? undefined : r.pacedShadowCpuPerRequestToWarm <= 1.1,
    // The same on the main thread alone, the answer path (the calls to the previous webhook on a thread of their own).
    shadowMainThreadWithin10Percent:
      r.pacedShadowMainThreadCpuPerRequestToWarm === undefined
        ? undefined
        : r.pacedShadowMainThreadCpuPerRequestToWarm <= 1.1,
    atLeast20xOldWay: r.warmToOldWay === undefined ? undefined : r.warmToOldWay >= 20,
    setUserRoles10kOneRoundTripUnder1s:
      writes?.store && writes.store.transactions === 1 && writes.setUserRoles10kMs < 1000,
    readyWithin500ms: footprint && footprint.readyMs <= 500,
    rssIdleAtMost64Mb: footprint && footprint.rssIdleMb <= 64,
    rssLoadedAtMost80Mb: footprint && footprint.rssLoadedMb <= 80,
    replicaCpuUnder5PctBeyondIdle: notify && poll && notify.cpuBeyondIdlePct < 5 && poll.cpuBeyondIdlePct < 5,
    replicaRssWithin10Mb: notify && poll && notify.rssGrowthMb <= 10 && poll.rssGrowthMb <= 10,
    replicaDelayP99Notify200ms: notify && notify.delayP99Ms <= 200 && notify.unseen === 0,
    // SNAPSHOT_MAX_LAG_S (2 s by default) + 0.5 s.
    replicaDelayP99PollLagPlusHalfSecond: poll && poll.delayP99Ms <= 2500 && poll.unseen === 0,
  };
  return Object.fromEntries(
    Object.entries(checks).filter((entry): entry is [string, boolean] => entry[1] !== undefined),
  );
}
