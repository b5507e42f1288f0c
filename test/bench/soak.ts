/**
 * Soak: the sidecar in its own process (development mode, embedded store) under a steady 1,000 decisions/s on
 * loopback, with a mapping write through the REST API every second. Reports per-window p50/p99, errors and the
 * sidecar's resident memory, and exits 1 when a decision or write fails, memory grows past the bound (median of
 * the last third of the windows over that of the first third), or the p99 of the second half drifts past twice
 * that of the first half.
 *
 * Usage: npx tsx test/bench/soak.ts [--minutes 10] [--rate 1000] [--window-s 10] [--max-rss-growth-mib 64]
 * Not part of `npm test`.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { openDevIssuer } from "../../src/identity/dev-issuer.js";

const { values } = parseArgs({
  options: {
    minutes: { type: "string", default: "10" },
    rate: { type: "string", default: "1000" },
    "window-s": { type: "string", default: "10" },
    users: { type: "string", default: "200" },
    "max-rss-growth-mib": { type: "string", default: "64" },
  },
});
const MINUTES = positive("minutes", values.minutes);
const RATE = positive("rate", values.rate);
const WINDOW_MS = positive("window-s", values["window-s"]) * 1000;
const USERS = positive("users", values.users);
const MAX_RSS_GROWTH_MIB = positive("max-rss-growth-mib", values["max-rss-growth-mib"]);
// The first window warms the JIT, the token cache and the operation cache; memory and p99 are compared after it.
const WARMUP_WINDOWS = 1;

function positive(name: string, value: string | undefined): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name}: expected a positive number`);
  return parsed;
}

interface Window {
  latencies: number[];
  /** Decisions whose answer was not the expected one (200 for allowed, 401 for denied), or never came. */
  failures: number;
  writes: number;
  writeFailures: number;
  writeMaxMs: number;
  rssMiB: number;
}

const newWindow = (): Window => ({
  latencies: [],
  failures: 0,
  writes: 0,
  writeFailures: 0,
  writeMaxMs: 0,
  rssMiB: 0,
});

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function post(
  port: number,
  path: string,
  method: string,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, path, method, agent, headers: { "content-type": "application/json" } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

/** Starts `src/main.ts` with `env`; resolves with the child and its ports once it logs "listening". */
async function startSidecar(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; webhookPort: number; adminPort: number }> {
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout! });
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`sidecar exited with ${code} before listening`)));
    // Every line is read (the decision log must not back up), only the "listening" one is parsed.
    lines.on("line", (line) => {
      if (!line.includes('"event":"listening"')) return;
      const parsed = JSON.parse(line) as { webhookPort: number; adminPort: number };
      resolve({ child, webhookPort: parsed.webhookPort, adminPort: parsed.adminPort });
    });
  });
}

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return Math.round((kib / 1024) * 10) / 10;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

const dataDir = await mkdtemp(join(tmpdir(), "rolemapper-soak-"));
const { child, webhookPort, adminPort } = await startSidecar({
  ROLEMAPPING_DATA_DIR: dataDir,
  WEBHOOK_PORT: "0",
  ADMIN_HTTP_PORT: "0",
  GRPC_PORT: "0",
  METRICS_PORT: "0",
  LOG_LEVEL: "info",
  NODE_ENV: "development",
});
const pid = child.pid!;
let exitCode = 0;
try {
  // The mapping: every soak user is in group "soakers", which may read orders; nobody may read secrets.
  const put = async (path: string, body: unknown) => {
    const answer = await post(adminPort, path, "PUT", JSON.stringify(body));
    if (answer.status !== 200) throw new Error(`${path}: ${answer.status} ${answer.text}`);
  };
  await put("/v1/roles", {
    role_id: "soak_read",
    component_id: "soak:read",
    graphql_root_field_names: ["orders"],
  });
  await put("/v1/group_roles", { role_id: "soak_read", groups: ["group:soakers"] });
  await put("/v1/roles", {
    role_id: "soak_writes",
    component_id: "soak:writes",
    graphql_root_field_names: ["invoices"],
  });

  const issuer = await openDevIssuer(dataDir);
  const ttlSeconds = Math.ceil(MINUTES * 60) + 600;
  const bodies: { allowed: string; denied: string }[] = [];
  for (let i = 0; i < USERS; i++) {
    const token = await issuer.mint({ user: `soak${i}@corp.com`, groups: ["soakers"], ttlSeconds });
    const headers = { Authorization: `Bearer ${token}` };
    bodies.push({
      allowed: JSON.stringify({ headers, request: { query: "query Orders { orders { id total } }" } }),
      denied: JSON.stringify({ headers, request: { query: "{ secrets { id } }" } }),
    });
  }

  const windows: Window[] = [];
  let current = newWindow();
  let sent = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const started = performance.now();
  const endAt = started + MINUTES * 60_000;

  const decideOnce = (n: number) => {
    const pair = bodies[n % bodies.length]!;
    const allowed = n % 10 !== 0; // one decision in ten is a denial
    const window = current;
    const t0 = performance.now();
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    post(webhookPort, "/v1/authenticate", "POST", allowed ? pair.allowed : pair.denied).then(
      (answer) => {
        inFlight--;
        window.latencies.push(performance.now() - t0);
        if (answer.status !== (allowed ? 200 : 401)) window.failures++;
      },
      () => {
        inFlight--;
        window.failures++;
      },
    );
  };

  // Open loop: the schedule is kept whatever the latency, so a slow sidecar shows up as latency, not fewer requests.
  // Every millisecond: evenly spaced arrivals, not bursts of ten that would queue behind each other.
  const TICK_MS = 1;
  const ticker = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    while (sent < due) decideOnce(sent++);
  }, TICK_MS);

  // A write every second: the same role's users alternate between two lists of 100.
  let flip = false;
  const writer = setInterval(() => {
    flip = !flip;
    const users = Array.from({ length: 100 }, (_, i) => `user:w${flip ? i : i + 100}_corp.com`);
    const window = current;
    const t0 = performance.now();
    window.writes++;
    post(adminPort, "/v1/user_roles", "PUT", JSON.stringify({ role_id: "soak_writes", users })).then(
      (answer) => {
        window.writeMaxMs = Math.max(window.writeMaxMs, performance.now() - t0);
        if (answer.status !== 200) window.writeFailures++;
      },
      () => window.writeFailures++,
    );
  }, 1000);

  console.log(
    `soak: ${MINUTES} min at ${RATE} decisions/s, a write every second, sidecar pid ${pid}; window ${WINDOW_MS / 1000} s`,
  );
  console.log("window  t(s)  decisions  p50(ms)  p99(ms)  max(ms)  fail  writes  wfail  wmax(ms)  rss(MiB)");
  while (performance.now() < endAt) {
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    const done = current;
    current = newWindow();
    // Let the window's last requests land before summarising it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    done.rssMiB = await rssMiB(pid);
    windows.push(done);
    const sorted = [...done.latencies].sort((a, b) => a - b);
    console.log(
      [
        String(windows.length).padStart(6),
        String(Math.round((performance.now() - started) / 1000)).padStart(5),
        String(done.latencies.length).padStart(10),
        percentile(sorted, 50).toFixed(2).padStart(8),
        percentile(sorted, 99).toFixed(2).padStart(8),
        (sorted[sorted.length - 1] ?? Number.NaN).toFixed(1).padStart(8),
        String(done.failures).padStart(5),
        String(done.writes).padStart(7),
        String(done.writeFailures).padStart(6),
        done.writeMaxMs.toFixed(1).padStart(9),
        done.rssMiB.toFixed(1).padStart(9),
      ].join(" "),
    );
  }
  clearInterval(ticker);
  clearInterval(writer);
  await new Promise((resolve) => setTimeout(resolve, 1_000));

  // Verdict, after the warm-up window.
  const measured = windows.slice(WARMUP_WINDOWS);
  const all = measured.flatMap((w) => w.latencies).sort((a, b) => a - b);
  const failures = windows.reduce((sum, w) => sum + w.failures, 0);
  const writeFailures = windows.reduce((sum, w) => sum + w.writeFailures, 0);
  const writes = windows.reduce((sum, w) => sum + w.writes, 0);
  // Resident memory swings with garbage collection: compare the medians of the first and last thirds.
  const third = Math.max(1, Math.floor(measured.length / 3));
  const median = (ws: Window[]) => {
    const sorted = ws.map((w) => w.rssMiB).sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? 0;
  };
  const rssBase = median(measured.slice(0, third));
  const rssLast = median(measured.slice(-third));
  const rssPeak = Math.max(...measured.map((w) => w.rssMiB));
  const half = Math.floor(measured.length / 2);
  const p99Of = (ws: Window[]) =>
    percentile(
      ws.flatMap((w) => w.latencies).sort((a, b) => a - b),
      99,
    );
  const p99First = p99Of(measured.slice(0, half));
  const p99Second = p99Of(measured.slice(half));
  const elapsedS = (performance.now() - started) / 1000;
  console.log(
    JSON.stringify(
      {
        minutes: MINUTES,
        decisions: sent,
        achievedRate: Math.round(sent / elapsedS),
        failures,
        writes,
        writeFailures,
        p50Ms: Number(percentile(all, 50).toFixed(2)),
        p99Ms: Number(percentile(all, 99).toFixed(2)),
        p999Ms: Number(percentile(all, 99.9).toFixed(2)),
        maxMs: Number((all[all.length - 1] ?? 0).toFixed(1)),
        p99FirstHalfMs: Number(p99First.toFixed(2)),
        p99SecondHalfMs: Number(p99Second.toFixed(2)),
        maxInFlight,
        rssFirstThirdMedianMiB: rssBase,
        rssLastThirdMedianMiB: rssLast,
        rssPeakMiB: rssPeak,
      },
      null,
      2,
    ),
  );
  const problems: string[] = [];
  if (failures > 0) problems.push(`${failures} decisions failed or answered wrongly`);
  if (writeFailures > 0) problems.push(`${writeFailures} writes failed`);
  if (rssLast - rssBase > MAX_RSS_GROWTH_MIB) {
    problems.push(`resident memory grew ${(rssLast - rssBase).toFixed(1)} MiB (bound ${MAX_RSS_GROWTH_MIB})`);
  }
  // Stable: the later half's p99 within twice the earlier half's (plus 2 ms, for tiny sub-millisecond p99s).
  if (measured.length >= 2 && p99Second > 2 * p99First + 2) {
    problems.push(`p99 drifted from ${p99First.toFixed(2)} ms to ${p99Second.toFixed(2)} ms`);
  }
  if (problems.length > 0) {
    console.log(`soak FAILED: ${problems.join("; ")}`);
    exitCode = 1;
  } else {
    console.log("soak passed: no errors, memory bounded, p99 stable");
  }
} finally {
  agent.destroy();
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await rm(dataDir, { recursive: true, force: true });
}
process.exit(exitCode);
