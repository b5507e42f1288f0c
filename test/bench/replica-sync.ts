import { Agent, request } from "node:http";
import { loadavg } from "node:os";
import { openPgClient } from "../../src/store/pg-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { migrateSchema } from "../../src/store/sql-migrate.js";
import { openTestDatabase } from "../support/databases.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import { buildOnce } from "./build.js";
import { percentile, round } from "./load.js";
import { startReplica, type ReplicaProcess } from "./replica-process.js";
import { BENCH_API_TOKEN } from "./seed.js";
import { signTokens, webhookBody } from "./tokens.js";

/** How the second replica follows the store in one run of the scenario. */
export type ReplicaMode = "full" | "journal-notify" | "journal-poll";

/** The second replica's figures for one mode. */
export interface ReplicaModeFigure {
  readonly mode: ReplicaMode;
  /** From spawning it to ready, its first full load included. */
  readonly readyMs: number;
  /** CPU share of one core while nothing is written, and while 20 writes/s land through the first replica. */
  readonly idleCpuPct: number;
  readonly writesCpuPct: number;
  readonly cpuBeyondIdlePct: number;
  /** Resident memory before the writes, its highest and last value during them. */
  readonly rssBeforeMb: number;
  readonly rssMaxMb: number;
  readonly rssEndMb: number;
  readonly rssGrowthMb: number;
  /** From each write's answer (through the first replica) to the second deciding by it. */
  readonly delayP50Ms: number;
  readonly delayP99Ms: number;
  readonly delayMaxMs: number;
  readonly writes: number;
  /** Writes the second replica had not decided by within the probe's patience (counted, not in the delays). */
  readonly unseen: number;
  /** The second replica's own counts after the run: full loads by reason, and catch-ups from the journal. */
  readonly fullLoads: Record<string, number>;
  readonly catchUps: number;
  /** The machine's 1-minute load average at the end (2 cores; others' work runs too). */
  readonly loadAverage: number;
}

/** What the scenario runs. */
export interface ReplicaSyncOptions {
  readonly issuer: JwksIssuer;
  readonly grantRows: number;
  readonly idleSeconds: number;
  readonly writeSeconds: number;
  readonly writesPerSecond: number;
  readonly log: (line: string) => void;
}

const MODES: readonly ReplicaMode[] = ["full", "journal-notify", "journal-poll"];
const MODE_ENV: Readonly<Record<ReplicaMode, Record<string, string>>> = {
  // The behaviour before the journal: every move of the marker reloads everything (and every 30 s).
  full: { SNAPSHOT_SYNC: "full" },
  "journal-notify": {},
  "journal-poll": { SNAPSHOT_LISTEN: "false" },
};
const ROLES = 1_000;

/**
 * Two replicas (built sidecars) on one PostgreSQL store holding `grantRows` grants; the first receives
 * `writesPerSecond` single-grant writes through REST. Measured on the second, for each way it can follow the
 * store (the full reload of before as the baseline, the journal woken by NOTIFY, the journal by polling): its CPU
 * share and resident memory during writes nobody asks it about, then the delay from each write's answer to its
 * first allow decision by it, while asked every few milliseconds (the asking costs CPU, hence the two phases).
 */
export async function measureReplicaSync(options: ReplicaSyncOptions): Promise<ReplicaModeFigure[]> {
  buildOnce();
  const database = await openTestDatabase("postgres");
  try {
    const writes = Math.round(options.writeSeconds * options.writesPerSecond);
    const started = performance.now();
    // A client of its own: a million rows take longer to insert than the test client's statement timeout.
    const seeder = openPgClient({
      connectionString: database.url!,
      maxConnections: 1,
      statementTimeoutMs: 3_600_000,
    });
    try {
      await migrateSchema(seeder, "rolemapping");
      await seed(seeder, options.grantRows, writes);
    } finally {
      await seeder.close();
    }
    options.log(
      `replicas: ${options.grantRows} grants seeded in ${Math.round(performance.now() - started)} ms`,
    );
    const figures: ReplicaModeFigure[] = [];
    for (const [index, mode] of MODES.entries()) {
      figures.push(await measureMode(options, database.url!, mode, index * 2 * writes, writes));
      options.log(`replicas, ${mode}: ${describeMode(figures[figures.length - 1]!)}`);
    }
    return figures;
  } finally {
    await database.drop();
  }
}

/** One line of a mode's figures. */
export function describeMode(f: ReplicaModeFigure): string {
  return (
    `ready ${f.readyMs} ms; cpu idle ${f.idleCpuPct} %, writing ${f.writesCpuPct} % (+${f.cpuBeyondIdlePct}); ` +
    `rss ${f.rssBeforeMb} → max ${f.rssMaxMb} MB (+${f.rssGrowthMb}); delay p50 ${f.delayP50Ms} ms, ` +
    `p99 ${f.delayP99Ms} ms, max ${f.delayMaxMs} ms over ${f.writes} writes (${f.unseen} unseen); ` +
    `full loads ${JSON.stringify(f.fullLoads)}, catch-ups ${f.catchUps}; load average ${f.loadAverage}`
  );
}

async function measureMode(
  options: ReplicaSyncOptions,
  databaseUrl: string,
  mode: ReplicaMode,
  firstUser: number,
  writes: number,
): Promise<ReplicaModeFigure> {
  const storeEnv = { ROLEMAPPING_STORE: "postgres", DATABASE_URL: databaseUrl };
  // The first replica follows the journal in every mode: only the second one's behaviour differs.
  const writer = await startReplica(options.issuer, storeEnv, 600_000);
  let observer: ReplicaProcess | undefined;
  try {
    observer = await startReplica(options.issuer, { ...storeEnv, ...MODE_ENV[mode] }, 600_000);
    await sleep(2_000);
    const idle = await sampled(observer, options.idleSeconds * 1000, async () => undefined);
    const quiet = await sampled(observer, options.writeSeconds * 1000, () =>
      writeAll(options, writer, firstUser, writes),
    );
    const tokens = signTokens(
      options.issuer,
      Array.from({ length: writes }, (_, i) => ({
        unique_name: `w${firstUser + writes + i}@corp.com`,
        groups: [],
      })),
    );
    const delays: number[] = [];
    let unseen = 0;
    await writeAll(options, writer, firstUser + writes, writes, async (i, answeredAt) => {
      const decidedAt = await firstAllow(observer!, tokens[i]!, i);
      if (decidedAt === undefined) unseen++;
      else delays.push(decidedAt - answeredAt);
    });
    delays.sort((a, b) => a - b);
    const counters = activity(await observer.metrics());
    return {
      mode,
      readyMs: observer.readyMs,
      idleCpuPct: idle.cpuPct,
      writesCpuPct: quiet.cpuPct,
      cpuBeyondIdlePct: round(quiet.cpuPct - idle.cpuPct, 2),
      rssBeforeMb: idle.rssEndMb,
      rssMaxMb: quiet.rssMaxMb,
      rssEndMb: quiet.rssEndMb,
      rssGrowthMb: round(quiet.rssMaxMb - idle.rssEndMb, 1),
      delayP50Ms: round(percentile(delays, 0.5), 1),
      delayP99Ms: round(percentile(delays, 0.99), 1),
      delayMaxMs: round(delays[delays.length - 1] ?? 0, 1),
      writes,
      unseen,
      ...counters,
      loadAverage: round(loadavg()[0] ?? 0, 2),
    };
  } finally {
    await observer?.stop();
    await writer.stop();
  }
}

// CPU share and resident memory of `replica` while `work` runs, and at least `ms`.
async function sampled(replica: ReplicaProcess, ms: number, work: () => Promise<unknown>) {
  const cpuBefore = replica.cpuMicros();
  const started = performance.now();
  let rssMaxMb = replica.rssMb();
  const sampler = setInterval(() => (rssMaxMb = Math.max(rssMaxMb, replica.rssMb())), 100);
  try {
    await Promise.all([work(), sleep(ms)]);
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  const cpuPct = round(((replica.cpuMicros() - cpuBefore) / 1e6 / seconds) * 100, 2);
  const rssEndMb = replica.rssMb();
  return { cpuPct, rssMaxMb: Math.max(rssMaxMb, rssEndMb), rssEndMb };
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/**
 * `count` writes through `writer`'s REST API, evenly paced: write i grants role `w-i` to user `w<first+i>` alone
 * (a single grant each). `answered` is called with the time each answer arrived, and awaited before returning.
 */
async function writeAll(
  options: ReplicaSyncOptions,
  writer: ReplicaProcess,
  first: number,
  count: number,
  answered?: (i: number, answeredAt: number) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / options.writesPerSecond;
    await sleep(Math.max(0, due - performance.now()));
    const body = JSON.stringify({ role_id: `w-${i}`, users: [`user:w${first + i}_corp.com`] });
    pending.push(
      post(writer.adminPort, "PUT", "/v1/user_roles", body, {
        authorization: `Bearer ${BENCH_API_TOKEN}`,
      }).then(async (status) => {
        if (status !== 200) throw new Error(`a write answered ${status}`);
        await answered?.(i, performance.now());
      }),
    );
  }
  await Promise.all(pending);
}

// Asks the replica every few milliseconds (less often as the wait grows) until it allows; undefined after 60 s.
async function firstAllow(replica: ReplicaProcess, token: string, i: number): Promise<number | undefined> {
  const body = webhookBody(
    token,
    { query: `query Q { wfield_${i} }`, operationName: "Q", variables: {} },
    `p${i}`,
  );
  const started = performance.now();
  while (performance.now() - started < 60_000) {
    if ((await post(replica.webhookPort, "POST", "/v1/authenticate", body)) === 200) return performance.now();
    await sleep(Math.min(250, 5 + (performance.now() - started) / 10));
  }
  return undefined;
}

function post(port: number, method: string, path: string, body: string, headers = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        agent,
        headers: { "content-type": "application/json", ...headers },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

// The replica's own account: full loads by reason and catch-ups (rolemapper_snapshot_* counters).
function activity(metrics: string): { fullLoads: Record<string, number>; catchUps: number } {
  const fullLoads: Record<string, number> = {};
  for (const match of metrics.matchAll(/^rolemapper_snapshot_full_loads_total\{reason="(\w+)"\} (\S+)$/gm)) {
    fullLoads[match[1]!] = Number(match[2]);
  }
  const catchUps = Number(/^rolemapper_snapshot_catch_ups_total (\S+)$/m.exec(metrics)?.[1] ?? 0);
  return { fullLoads, catchUps };
}

/**
 * `grantRows` grants over 1,000 roles of three root fields each (nine in ten users', the rest groups'), set-based,
 * and `writeRoles` roles `w-0`… mapping `wfield_0`… with no grant yet: the writes' targets.
 */
async function seed(client: SqlClient, grantRows: number, writeRoles: number): Promise<void> {
  await client.query(
    `INSERT INTO rolemapping.roles SELECT 'role-' || r, 'component-' || r FROM generate_series(1, $1) r`,
    [ROLES],
  );
  await client.query(
    `INSERT INTO rolemapping.role_graphql_root_field_names
     SELECT 'role-' || r, 'field_' || r || '_' || f FROM generate_series(1, $1) r, generate_series(1, 3) f`,
    [ROLES],
  );
  const users = Math.floor(grantRows * 0.9);
  await client.query(
    `INSERT INTO rolemapping.user_roles ("user", role_id)
     SELECT 'user:person-' || (g / 10) || '_corp.com', 'role-' || (g % $2 + 1) FROM generate_series(0, $1 - 1) g`,
    [users, ROLES],
  );
  await client.query(
    `INSERT INTO rolemapping.group_roles ("group", role_id)
     SELECT 'group:team-' || (g / 10), 'role-' || (g % $2 + 1) FROM generate_series(0, $1 - 1) g`,
    [grantRows - users, ROLES],
  );
  await client.query(
    `INSERT INTO rolemapping.roles SELECT 'w-' || w, 'write-component-' || w FROM generate_series(0, $1 - 1) w`,
    [writeRoles],
  );
  await client.query(
    `INSERT INTO rolemapping.role_graphql_root_field_names
     SELECT 'w-' || w, 'wfield_' || w FROM generate_series(0, $1 - 1) w`,
    [writeRoles],
  );
  await client.query("ANALYZE");
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
