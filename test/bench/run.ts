/**
 * The webhook benchmark: `npm run bench` (full) or `npm run bench -- --quick` (all scenarios, under a minute).
 * `-- --cpu-prof DIR` also writes CPU profiles of the sidecar during the warm and cold runs into DIR
 * (summarise one with `npx tsx test/bench/profile-summary.ts DIR/warm.cpuprofile`).
 *
 * Every target runs in its own process on 127.0.0.1 and ephemeral ports; the load comes from this process
 * (autocannon, keep-alive; the 1,000 req/s runs from an evenly paced generator in a process of its own,
 * paced-load.ts). Throughput figures are compared with a constant-answer express baseline measured in
 * the same run, since the machine is shared and noisy. Progress goes to stdout; the last line is one JSON object
 * with every figure and ratio.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { startChild, type Child } from "./child.js";
import { timeOldWayRequests } from "./old-way.js";
import { profileWindow } from "./profiler.js";
import { runLoad, round, type LoadResult } from "./load.js";
import { runPacedLoadApart, type PacedLoadResult } from "./paced-load.js";
import { measureScaling } from "./scaling.js";
import { groupSubject, userSubject } from "../../src/core/principal.js";
import { BENCH_API_TOKEN, grpcApi, measureWrites, seedOverGrpc } from "./seed.js";
import { measureSnapshotLoad, snapshotStores } from "./snapshot-load.js";
import { measureStoreRoundTrips } from "./store-round-trips.js";
import { signTokens, webhookBody } from "./tokens.js";
import { buildWorkload, type Workload, type WorkloadSize } from "./workload.js";

const { values: args } = parseArgs({
  options: { quick: { type: "boolean", default: false }, "cpu-prof": { type: "string" } },
  strict: true,
});
const quick = args.quick;
const plan = quick
  ? {
      seconds: 2,
      coldTokens: 3_000,
      upserts: 1_000,
      grantRows: [10_000, 100_000],
      scalingMs: 60,
      logged: false,
    }
  : {
      seconds: 10,
      coldTokens: 15_000,
      upserts: 1_000,
      grantRows: [10_000, 1_000_000],
      scalingMs: 500,
      logged: true,
    };
const CONNECTIONS = 64;
const COLD_WARM_UP = 1_000;
const SIZE: WorkloadSize = { roles: 300, groups: 100, users: 1_000, groupsPerUser: 5 };
const ADMIN_SECRET = "bench-admin-secret";
const started = Date.now();
const figures: Record<string, unknown> = { mode: quick ? "quick" : "full", machine: machine() };

const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);

const issuer = await JwksIssuer.start();
const dataDir = mkdtempSync(join(tmpdir(), "rolemapper-bench-"));
const children: Child<unknown>[] = [];
try {
  const workload = buildWorkload(SIZE);
  const warmTokens = signTokens(
    issuer,
    workload.callers.map((c) => ({ unique_name: c.name, groups: c.groups })),
  );
  const warmBodies = workload.callers.map((caller, i) =>
    webhookBody(warmTokens[i] as string, request(caller), `req-${i}`),
  );
  figures.workload = { ...SIZE, distinctQueries: new Set(workload.callers.map((c) => c.query)).size };

  // Every process starts at once (start-up is the slow part of a quick run); idle ones cost nothing.
  const [baselineChild, sidecar, oldWayChildren] = await Promise.all([
    startChild<{ port: number }>("./target-baseline.ts"),
    startSidecar("warn"),
    startOldWay(),
  ]);
  children.push(baselineChild as Child<unknown>);
  log("targets started");
  const baselineBefore = await measureBaseline(baselineChild.info.port, warmBodies);
  log(`baseline (constant answer): ${describe(baselineBefore)}`);

  const { api, close } = grpcApi(sidecar.info.grpcPort);
  let seeding = performance.now();
  await seedOverGrpc(api, workload);
  log(`seeded ${workload.roles.length} roles over gRPC in ${Math.round(performance.now() - seeding)} ms`);
  await runLoad({
    port: sidecar.info.webhookPort,
    bodies: warmBodies,
    connections: CONNECTIONS,
    amount: 2_000,
  });
  const warm = await profiled(sidecar, "warm", () =>
    runLoad({
      port: sidecar.info.webhookPort,
      bodies: warmBodies,
      connections: CONNECTIONS,
      duration: plan.seconds,
    }),
  );
  log(`warm decisions (LOG_LEVEL=warn): ${describe(warm)}`);
  const paced = await runPacedLoadApart({
    port: sidecar.info.webhookPort,
    bodies: warmBodies,
    connections: 16,
    seconds: plan.seconds,
    rate: 1_000,
  });
  log(`warm decisions at 1,000 req/s: ${describePaced(paced)}`);
  // The same pace on the constant answer: how much of that tail is the machine's rather than the sidecar's.
  const pacedBaseline = await runPacedLoadApart({
    port: baselineChild.info.port,
    bodies: warmBodies,
    connections: 16,
    seconds: plan.seconds,
    rate: 1_000,
  });
  log(`baseline at 1,000 req/s: ${describePaced(pacedBaseline)}`);

  const coldTokens = signTokens(
    issuer,
    Array.from({ length: COLD_WARM_UP + plan.coldTokens }, (_, i) => {
      const caller = workload.callers[i % workload.callers.length] as Workload["callers"][number];
      return { unique_name: caller.name, groups: caller.groups };
    }),
    1_000_000,
  );
  const coldBodies = coldTokens.map((token, i) =>
    webhookBody(token, request(workload.callers[i % workload.callers.length]!), `cold-${i}`),
  );
  // The first tokens only warm the verification path (JIT): a short run would otherwise mostly measure that.
  await runLoad({
    port: sidecar.info.webhookPort,
    bodies: coldBodies.slice(0, COLD_WARM_UP),
    connections: CONNECTIONS,
    amount: COLD_WARM_UP,
  });
  const cold = await profiled(sidecar, "cold", () =>
    runLoad({
      port: sidecar.info.webhookPort,
      bodies: coldBodies.slice(COLD_WARM_UP),
      connections: CONNECTIONS,
      amount: plan.coldTokens,
    }),
  );
  log(`cold tokens (every token new): ${describe(cold)}`);

  seeding = performance.now();
  const writes = await measureWrites(api, plan.upserts);
  log(
    `writes: SetUserRoles 10,000 users ${writes.setUserRoles10kMs} ms (replacing half: ${writes.setUserRoles10kReplaceMs} ms); ` +
      `${writes.upsertRoleSequential} sequential UpsertRole ${writes.upsertRoleTotalMs} ms (${writes.upsertRoleMeanMs} ms each)`,
  );
  close();
  await stop(sidecar);

  // Full runs only: the same mapping (with the write scenario's roles too), every decision logged at info.
  let warmLogged: LoadResult | undefined;
  if (plan.logged) {
    const logged = await startSidecar("info");
    await runLoad({
      port: logged.info.webhookPort,
      bodies: warmBodies,
      connections: CONNECTIONS,
      amount: 2_000,
    });
    warmLogged = await runLoad({
      port: logged.info.webhookPort,
      bodies: warmBodies,
      connections: CONNECTIONS,
      duration: plan.seconds,
    });
    log(`warm decisions (LOG_LEVEL=info, one audit line per decision to /dev/null): ${describe(warmLogged)}`);
    await stop(logged);
  }

  log(`the old way's Hasura stand-in runs on ${oldWayChildren.standIn.info.database}`);
  const oldWay = await runLoad({
    port: oldWayChildren.webhook.info.port,
    bodies: warmBodies,
    connections: CONNECTIONS,
    duration: plan.seconds,
  });
  log(`the old way (introspection + 2 GraphQL round trips per request): ${describe(oldWay)}`);
  const caller = workload.callers[0]!;
  const oldWayRequests = await timeOldWayRequests(
    oldWayChildren.standIn.info.url,
    ADMIN_SECRET,
    { user: userSubject(caller.name), groups: caller.groups.map(groupSubject), fields: caller.rootFields },
    quick ? 3 : 20,
  );
  log(`the old way's Hasura requests one at a time: ${JSON.stringify(oldWayRequests)} (mean ms)`);
  await stop(oldWayChildren.webhook);
  await stop(oldWayChildren.standIn);

  const baselineAfter = await measureBaseline(baselineChild.info.port, warmBodies);
  log(`baseline again: ${describe(baselineAfter)}`);
  await stop(baselineChild);
  const baseline = (baselineBefore.requestsPerSecond + baselineAfter.requestsPerSecond) / 2;

  const storeTrips = await measureStoreRoundTrips();
  log(
    `SetUserRoles 10,000 users on the SQL store (PGlite, in process): ${storeTrips.transactions} transaction, ` +
      `${storeTrips.statements} statements, ${storeTrips.ms} ms`,
  );

  const scaling = await measureScaling(plan.scalingMs);
  log(`scaling (in-process Authorizer.authorize, warm token): ${JSON.stringify(scaling.nsPerDecision)} ns`);

  const snapshots = [];
  for (const store of await snapshotStores()) {
    for (const rows of plan.grantRows) {
      const figure = await measureSnapshotLoad(store, rows);
      snapshots.push(figure);
      log(
        `snapshot of ${rows} grant rows from ${store}, in a fresh process: store load ${figure.loadMs} ms + ` +
          `index ${figure.indexMs} ms, rss ${figure.rssBeforeMb} → ${figure.rssAfterMb} MB, ` +
          `peak ${figure.rssPeakMb} MB (snapshot heap ${figure.snapshotHeapMb} MB)`,
      );
    }
  }

  Object.assign(figures, {
    baseline: { before: baselineBefore, after: baselineAfter, meanRequestsPerSecond: round(baseline) },
    warm,
    warmAt1000PerSecond: paced,
    baselineAt1000PerSecond: pacedBaseline,
    warmWithDecisionLog: warmLogged ?? "full run only",
    cold,
    oldWay: { ...oldWay, requestsOneAtATime: oldWayRequests },
    writes: { ...writes, store: storeTrips },
    scaling,
    snapshots,
    ratios: {
      warmToBaseline: round(warm.requestsPerSecond / baseline, 3),
      ...(warmLogged
        ? { warmWithDecisionLogToBaseline: round(warmLogged.requestsPerSecond / baseline, 3) }
        : {}),
      coldToBaseline: round(cold.requestsPerSecond / baseline, 3),
      // What the sidecar adds to the machine's own tail at the same pace.
      pacedP99OverBaselineMs: round(paced.p99Ms - pacedBaseline.p99Ms, 3),
      pacedP50OverBaselineMs: round(paced.p50Ms - pacedBaseline.p50Ms, 3),
      warmToOldWay: round(warm.requestsPerSecond / oldWay.requestsPerSecond, 1),
      ...scaling.ratios,
    },
  });
  figures.targets = targets(figures);
  figures.seconds = Math.round((Date.now() - started) / 1000);
} finally {
  for (const child of children) await child.stop().catch(() => undefined);
  await issuer.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(figures));

async function measureBaseline(port: number, bodies: readonly string[]): Promise<LoadResult> {
  await runLoad({ port, bodies, connections: CONNECTIONS, amount: 2_000 });
  return runLoad({ port, bodies, connections: CONNECTIONS, duration: plan.seconds });
}

// With --cpu-prof DIR: a CPU profile of the sidecar during `work` alone, written to DIR/<name>.cpuprofile.
async function profiled<T>(sidecar: Child<unknown>, name: string, work: () => Promise<T>): Promise<T> {
  const dir = args["cpu-prof"];
  if (dir === undefined) return work();
  mkdirSync(dir, { recursive: true });
  const path = resolve(dir, `${name}.cpuprofile`);
  const result = await profileWindow(sidecar, path, work);
  log(`CPU profile of the sidecar: ${path}`);
  return result;
}

async function startSidecar(level: "warn" | "info") {
  const sidecar = await startChild<{ webhookPort: number; adminPort: number; grpcPort: number }>(
    "./target-sidecar.ts",
    {
      env: {
        JWKS_URL: issuer.jwksUrl,
        JWT_ISSUER: issuer.url,
        JWT_AUDIENCE: issuer.audience,
        ROLEMAPPING_STORE: "embedded",
        ROLEMAPPING_DATA_DIR: dataDir,
        ROLEMAPPER_API_TOKENS: BENCH_API_TOKEN,
        WEBHOOK_PORT: "0",
        ADMIN_HTTP_HOST: "127.0.0.1",
        ADMIN_HTTP_PORT: "0",
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: "0",
        LOG_LEVEL: level,
        MAX_SUBJECTS_PER_CALL: "100000",
      },
    },
  );
  children.push(sidecar as Child<unknown>);
  return sidecar;
}

async function startOldWay() {
  const standIn = await startChild<{ url: string; database: string }>("./target-stand-in.ts", {
    env: { BENCH_WORKLOAD: JSON.stringify(SIZE), OLD_WAY_ADMIN_SECRET: ADMIN_SECRET },
  });
  children.push(standIn as Child<unknown>);
  const oldWay = await startChild<{ port: number }>("./target-old-way.ts", {
    env: {
      OLD_WAY_GRAPHQL_URL: standIn.info.url,
      OLD_WAY_ADMIN_SECRET: ADMIN_SECRET,
      OLD_WAY_JWKS_URL: issuer.jwksUrl,
      OLD_WAY_ISSUER: issuer.url,
      OLD_WAY_AUDIENCE: issuer.audience,
    },
  });
  children.push(oldWay as Child<unknown>);
  return { standIn, webhook: oldWay };
}

async function stop(child: Child<unknown>): Promise<void> {
  await child.stop();
  children.splice(children.indexOf(child), 1);
}

function request(caller: Workload["callers"][number]) {
  return { query: caller.query, operationName: caller.operationName, variables: caller.variables };
}

function describe(result: LoadResult): string {
  const problems =
    result.non2xx + result.errors > 0 ? ` (${result.non2xx} non-2xx, ${result.errors} errors!)` : "";
  return `${result.requestsPerSecond} req/s, p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms, ${result.requests} requests${problems}`;
}

function describePaced(result: PacedLoadResult): string {
  return `${describe(result)}, p90 ${result.p90Ms} ms, p99.9 ${result.p999Ms} ms, p99 from the schedule ${result.p99FromScheduleMs} ms, generator's loop delay p99 ${result.generatorLoopDelayP99Ms} ms`;
}

function machine() {
  return {
    node: process.version,
    cpus: (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency,
  };
}

function targets(all: Record<string, unknown>) {
  const r = all.ratios as Record<string, number>;
  const paced = all.warmAt1000PerSecond as LoadResult;
  const writes = all.writes as { setUserRoles10kMs: number; store: { transactions: number } };
  return {
    warmAtLeastHalfBaseline: r.warmToBaseline! >= 0.5,
    p99AtMost2msAt1000PerSecond: paced.p99Ms <= 2,
    coldAtLeastQuarterBaseline: r.coldToBaseline! >= 0.25,
    roles100kWithin1_2x: r.roles100kTo10! <= 1.2,
    groups1000Within1_2x: r.groups1000To1! <= 1.2,
    atLeast20xOldWay: r.warmToOldWay! >= 20,
    setUserRoles10kOneRoundTripUnder1s: writes.store.transactions === 1 && writes.setUserRoles10kMs < 1000,
  };
}
