/**
 * The webhook benchmark: `npm run bench` (full) or `npm run bench -- --quick` (all scenarios, shorter).
 * `-- --only webhook,footprint` runs only the scenarios named (webhook, old-way, shadow, store, scaling, pins,
 * combined, snapshots, footprint, replicas). `-- --replica-grants N` sets the grants of the replicas scenario
 * (1,000,000; 100,000 with --quick). `-- --cpu-prof DIR` also writes CPU profiles of the sidecar during the warm and cold runs into DIR
 * (summarise one with `npx tsx test/bench/profile-summary.ts DIR/warm.cpuprofile`).
 *
 * Every target runs in its own process on 127.0.0.1 and ephemeral ports; the load comes from this process
 * (autocannon, keep-alive; the 1,000 req/s runs from an evenly paced generator in a process of its own,
 * paced-load.ts). Throughput figures are compared with two constant-answer baselines measured in the same run
 * (express, and bare node:http: the physical limit), since the machine is shared and noisy. Progress goes to
 * stdout; the last line is one JSON object with every figure and ratio.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { buildOnce } from "./build.js";
import { BenchContext, type Plan } from "./context.js";
import { measureFootprint } from "./footprint.js";
import { describe, machine, targets } from "./report.js";
import { measureScaling } from "./scaling.js";
import { request } from "./sidecar-scenarios.js";
import { measureSnapshotLoad, snapshotStores } from "./snapshot-load.js";
import { measureStoreRoundTrips } from "./store-round-trips.js";
import { signTokens, webhookBody } from "./tokens.js";
import { runWebhookScenarios } from "./webhook-scenarios.js";
import { buildWorkload, type WorkloadSize } from "./workload.js";

const SCENARIOS = [
  "webhook",
  "old-way",
  "shadow",
  "store",
  "scaling",
  "pins",
  "combined",
  "snapshots",
  "footprint",
  "replicas",
] as const;
type Scenario = (typeof SCENARIOS)[number];
const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    only: { type: "string" },
    "replica-grants": { type: "string" },
  },
  strict: true,
});
const only = new Set((args.only ?? SCENARIOS.join(",")).split(",").map((name) => name.trim()));
for (const name of only) {
  if (!(SCENARIOS as readonly string[]).includes(name))
    throw new Error(`--only: unknown scenario "${name}" (one of ${SCENARIOS.join(", ")})`);
}
const wants = (scenario: Scenario) => only.has(scenario);
const plan: Plan = args.quick
  ? {
      quick: true,
      seconds: 2,
      coldTokens: 3_000,
      upserts: 1_000,
      grantRows: [10_000, 100_000],
      scalingMs: 60,
      logged: false,
      footprintIdleMs: 1_000,
    }
  : {
      quick: false,
      seconds: 10,
      coldTokens: 15_000,
      upserts: 1_000,
      grantRows: [10_000, 1_000_000],
      scalingMs: 500,
      logged: true,
      footprintIdleMs: 3_000,
    };
const SIZE: WorkloadSize = { roles: 300, groups: 100, users: 1_000, groupsPerUser: 5 };
const FOOTPRINT_GRANT_ROWS = 10_000;

const issuer = await JwksIssuer.start();
const dataDir = mkdtempSync(join(tmpdir(), "rolemapper-bench-"));
const ctx = new BenchContext(plan, issuer, dataDir, args["cpu-prof"]);
const { figures, ratios } = ctx;
Object.assign(figures, { mode: plan.quick ? "quick" : "full", scenarios: [...only], machine: machine() });
try {
  const workload = buildWorkload(SIZE);
  // One token per caller, signed anew for scenarios that start late in a long run (tokens expire).
  const signWarmBodies = () => {
    const tokens = signTokens(
      issuer,
      workload.callers.map((c) => ({ unique_name: c.name, groups: c.groups })),
    );
    return workload.callers.map((caller, i) => webhookBody(tokens[i] as string, request(caller), `req-${i}`));
  };
  const warmBodies = signWarmBodies();
  figures.workload = { ...SIZE, distinctQueries: new Set(workload.callers.map((c) => c.query)).size };

  if (wants("webhook") || wants("footprint") || wants("shadow")) buildOnce();
  if (wants("webhook") || wants("old-way")) {
    const run = { sidecar: wants("webhook"), oldWay: wants("old-way") };
    await runWebhookScenarios(ctx, run, workload, SIZE, warmBodies);
  }

  // Scenarios of later features are imported only when run, so this bench also runs on older trees.
  if (wants("shadow")) {
    const { measureShadow } = await import("./shadow-scenario.js");
    await measureShadow(ctx, workload, SIZE, signWarmBodies());
  }

  if (wants("store")) {
    const storeTrips = await measureStoreRoundTrips();
    ctx.log(
      `SetUserRoles 10,000 users on the SQL store (PGlite, in process): ${storeTrips.transactions} transaction, ` +
        `${storeTrips.statements} statements, ${storeTrips.ms} ms`,
    );
    figures.writes = { ...(figures.writes as object | undefined), store: storeTrips };
  }

  if (wants("scaling")) {
    const scaling = await measureScaling(plan.scalingMs);
    ctx.log(
      `scaling (in-process Authorizer.authorize, warm token): ${JSON.stringify(scaling.nsPerDecision)} ns`,
    );
    figures.scaling = scaling;
    Object.assign(ratios, scaling.ratios);
  }

  if (wants("pins")) {
    const { measurePinnedGroups } = await import("./pinned-groups.js");
    const pinned = await measurePinnedGroups(plan.scalingMs);
    ctx.log(
      `pinned group names (in-process, groups from a warm provider cache): warm authorize ` +
        `${JSON.stringify(pinned.nsPerWarmDecision)} ns; cold role set + decide ` +
        `${JSON.stringify(pinned.nsPerColdRoleSetAndDecide)} ns; added by pins ${JSON.stringify(pinned.addedNs)} ns; ` +
        `directory or store calls while timed: ${pinned.pinCallsWhileTimed}`,
    );
    figures.pinnedGroups = pinned;
  }

  if (wants("combined")) {
    const { measureCombinedRoles } = await import("./combined-roles.js");
    const combined = await measureCombinedRoles(plan.scalingMs);
    ctx.log(
      `combined roles (in-process Authorizer.authorize, warm token, combined role known): ` +
        `${JSON.stringify(combined.nsPerDecision)} ns, combined / single ${combined.ratio}`,
    );
    figures.combinedRoles = combined;
    ratios.combinedOverSingle = combined.ratio;
  }

  if (wants("snapshots")) {
    const snapshots = [];
    for (const store of await snapshotStores()) {
      for (const rows of plan.grantRows) {
        const figure = await measureSnapshotLoad(store, rows);
        snapshots.push(figure);
        ctx.log(
          `snapshot of ${rows} grant rows from ${store}, in a fresh process: store load ${figure.loadMs} ms + ` +
            `index ${figure.indexMs} ms, rss ${figure.rssBeforeMb} → ${figure.rssAfterMb} MB, ` +
            `peak ${figure.rssPeakMb} MB (snapshot heap ${figure.snapshotHeapMb} MB)`,
        );
      }
    }
    figures.snapshots = snapshots;
  }

  if (wants("footprint")) {
    const measured = await measureFootprint({
      issuer,
      workload,
      bodies: signWarmBodies(),
      grantRows: FOOTPRINT_GRANT_ROWS,
      idleMs: plan.footprintIdleMs,
      loadSeconds: plan.seconds,
      hasura: true,
    });
    for (const figure of measured) {
      ctx.log(
        `footprint of node dist/main.js, ${figure.store} store, ${figure.grantRows} grants: ready in ` +
          `${figure.readyMs} ms (${figure.readyCpuMs} ms of CPU), rss idle ${figure.rssIdleMb} MB, after ${plan.seconds} s of warm load ` +
          `${figure.rssLoadedMb} MB (peak ${figure.rssPeakMb} MB); load ${describe(figure.load)}`,
      );
    }
    const [postgres, hasura] = measured;
    figures.footprint = { ...postgres, ...(hasura ? { hasura } : {}) };
  }

  if (wants("replicas")) {
    const { measureReplicaSync } = await import("./replica-sync.js");
    const grantRows = Number(args["replica-grants"] ?? (plan.quick ? 100_000 : 1_000_000));
    if (!Number.isInteger(grantRows) || grantRows < 1000)
      throw new Error("--replica-grants: a whole number of at least 1000");
    const modes = await measureReplicaSync({
      issuer,
      grantRows,
      idleSeconds: plan.quick ? 3 : 10,
      writeSeconds: plan.quick ? 6 : 30,
      writesPerSecond: 20,
      log: (line) => ctx.log(line),
    });
    figures.replicas = { grantRows, writesPerSecond: 20, modes };
  }

  figures.ratios = ratios;
  figures.targets = targets(figures);
  figures.seconds = Math.round(ctx.elapsedSeconds());
} finally {
  await ctx.stopAll();
  await issuer.close();
  rmSync(dataDir, { recursive: true, force: true });
}
console.log(JSON.stringify(figures));
