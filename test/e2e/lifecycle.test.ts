import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDevIssuer } from "../../src/identity/dev-issuer.js";
import { SAMPLE_ROLE } from "../../src/wiring/sample-mapping.js";
import { sample } from "../observability/sidecar-fixture.js";
import { freePort } from "../support/free-port.js";
import { seedPristineCluster } from "../support/pglite-template.js";

// The real process (`node --import tsx src/main.ts`, development mode) stopped by SIGTERM while under load.
const API_SECRET = "lifecycle-api-secret-0123456789";
const SLOW_REQUESTS = 3;
const LOAD_WORKERS = 4;

let child: ChildProcess;
let dataDir: string;
let output = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let webhookPort: number;
let webhook: string;
let admin: string;
let metrics: string;
let token: string;

const lines = (): Record<string, unknown>[] =>
  output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/**
 * Resolves once the process logs its "listening" line; rejects, with the output, if it exits first or `ms` pass
 * without it (a bound on waiting, within the hook's own timeout so the failure shows what the process printed).
 */
function listening(started: ChildProcess, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after ${ms} ms; output:\n${output}`)), ms);
    const settle = (error?: Error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    started.stdout?.on("data", () => {
      if (/"event":"listening".*\n/.test(output)) settle();
    });
    started.once("exit", (code) => settle(new Error(`exited (${code}) before listening:\n${output}`)));
  });
}

/** Waits up to 30 s for `check` to hold; the failure names `what` and shows the process's output. */
const until = (what: string, check: () => boolean | Promise<boolean>): Promise<void> =>
  vi.waitFor(async () => expect(await check(), `${what}; output so far:\n${output}`).toBe(true), {
    timeout: 30_000,
    interval: 50,
  });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "rolemapper-lifecycle-"));
  // An initialised cluster in it: the first start on an empty directory is production-tree.test.ts's subject.
  await seedPristineCluster(dataDir);
  let adminPort: number, grpcPort: number, metricsPort: number;
  [webhookPort, adminPort, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: join(import.meta.dirname, "../.."),
    env: {
      PATH: process.env.PATH,
      ROLEMAPPING_DATA_DIR: dataDir,
      WEBHOOK_PORT: String(webhookPort),
      ADMIN_HTTP_PORT: String(adminPort),
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: String(metricsPort),
      ROLEMAPPER_API_TOKENS: `ops:${API_SECRET}`,
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  // Under a loaded machine tsx alone has taken over 45 s to start it: the bound is for a line that never comes.
  await listening(child, 90_000);
  webhook = `http://127.0.0.1:${webhookPort}/v1/authenticate`;
  admin = `http://127.0.0.1:${adminPort}`;
  metrics = `http://127.0.0.1:${metricsPort}`;
  const issuer = await openDevIssuer(dataDir);
  token = await issuer.mint({ user: "alice@example.com", groups: ["analysts"] });
}, 120_000);

afterAll(() => {
  if (child.exitCode === null) child.kill("SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

const decisionBody = () =>
  JSON.stringify({
    headers: { Authorization: `Bearer ${token}` },
    request: { query: "{ sales_orders { id } }" },
  });

interface Answer {
  readonly status: number;
  readonly connection: string | undefined;
  readonly body: string;
}

/** A webhook call whose body is sent in two halves: it is in flight until `finish()`. */
function slowRequest(agent?: Agent): { finish(): void; answer: Promise<Answer> } {
  const body = Buffer.from(decisionBody());
  const half = Math.floor(body.length / 2);
  const req = request(webhook, {
    method: "POST",
    headers: { "content-type": "application/json", "content-length": body.length },
    agent,
  });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body: text }),
      );
    });
    req.on("error", reject);
  });
  req.write(body.subarray(0, half));
  return { finish: () => req.end(body.subarray(half)), answer };
}

interface Outcome {
  readonly status?: number;
  readonly error?: string;
}

/** Sends decisions back to back until the sidecar answers with `Connection: close` (it is draining). */
async function worker(outcomes: Outcome[]): Promise<void> {
  for (;;) {
    try {
      const response = await fetch(webhook, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: decisionBody(),
      });
      await response.arrayBuffer();
      outcomes.push({ status: response.status });
      if (response.headers.get("connection") === "close") return;
    } catch (error) {
      outcomes.push({ error: errorCode(error) });
      return;
    }
  }
}

function errorCode(error: unknown): string {
  return (error as { cause?: { code?: string } }).cause?.code ?? String(error);
}

/** A bare connection to the webhook port, closed at once: "connected", or the error's code. */
function connectionAttempt(): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(webhookPort, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

/** The webhook requests the process has under way, from its metrics. */
async function inFlight(): Promise<number> {
  const text = await (await fetch(`${metrics}/metrics`)).text();
  return sample(text, "rolemapper_webhook_in_flight") ?? 0;
}

describe("the process lifecycle", () => {
  it("logs the effective configuration once at startup, secrets masked", () => {
    const configLines = lines().filter((line) => line.event === "config");
    expect(configLines).toHaveLength(1);
    expect(configLines[0]?.config).toMatchObject({ mode: "development", api_tokens: 1, store: "embedded" });
    expect(output).not.toContain(API_SECRET);
  });

  it("on SIGTERM turns unready, finishes every request in flight, refuses new ones, and exits 0", async () => {
    const slow = Array.from({ length: SLOW_REQUESTS }, () => slowRequest());
    await until("the slow requests to be in flight", async () => (await inFlight()) >= SLOW_REQUESTS);
    const outcomes: Outcome[] = [];
    const load = Array.from({ length: LOAD_WORKERS }, () => worker(outcomes));
    await until("some load before the signal", () => outcomes.length >= 20);

    child.kill("SIGTERM");
    await until("readiness to turn false", async () => {
      const response = await fetch(`${admin}/readyz`);
      await response.arrayBuffer();
      return response.status === 503;
    });
    await Promise.all(load);
    // A caller that connects during the drain is answered, even after the port has closed, and told to close
    // the connection. Its own keep-alive agent: a new connection, and a client that would keep it.
    const late = slowRequest(new Agent({ keepAlive: true }));
    await until("the late request to be in flight", async () => (await inFlight()) === SLOW_REQUESTS + 1);
    // Then the port refuses new connections, while the slow requests are still in flight. Bare connections, no
    // request: one made at the very moment the port closes can be reset by the kernel before the process ever
    // accepted it, whatever the process does (its callers were told to stop: readiness off, Connection: close).
    await until(
      "the webhook port to refuse connections",
      async () => (await connectionAttempt()) === "ECONNREFUSED",
    );
    expect(child.exitCode).toBeNull();
    for (const request of [...slow, late]) request.finish();
    const answers = await Promise.all(slow.map((request) => request.answer));
    const lateAnswer = await late.answer;
    const { code, signal } = await exited;

    for (const answer of [...answers, lateAnswer]) {
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ "X-Hasura-Role": SAMPLE_ROLE.roleId });
    }
    expect(lateAnswer.connection).toBe("close");
    // Requests under way when the signal came, and those sent while draining, were all answered in full.
    expect(outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    const events = lines().map((line) => line.event);
    expect(events.indexOf("shutdown")).toBeGreaterThan(-1);
    expect(events.indexOf("stopped")).toBeGreaterThan(events.indexOf("shutdown"));
  }, 60_000);
});
