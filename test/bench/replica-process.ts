import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { freePort } from "../support/free-port.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import { ROOT } from "./build.js";
import { cpuMicros } from "./load.js";
import { BENCH_API_TOKEN } from "./seed.js";

/** A built sidecar (`node dist/main.js`) running as a replica of one deployment. */
export interface ReplicaProcess {
  readonly pid: number;
  readonly webhookPort: number;
  readonly adminPort: number;
  readonly metricsPort: number;
  /** From spawning to the first `/readyz` 200 (the first full load included). */
  readonly readyMs: number;
  /** User plus system CPU time so far, in microseconds. */
  cpuMicros(): number;
  /** Resident memory now, in MB (the kernel's VmRSS). */
  rssMb(): number;
  /** The text of its /metrics. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Starts one replica on `storeEnv` plus `extraEnv`, and waits until it is ready (up to `readyTimeoutMs`). */
export async function startReplica(
  issuer: JwksIssuer,
  storeEnv: Record<string, string>,
  readyTimeoutMs: number,
): Promise<ReplicaProcess> {
  const [webhookPort, adminPort, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const started = performance.now();
  const child = spawn(process.execPath, ["--max-old-space-size=2048", "dist/main.js"], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      JWKS_URL: issuer.jwksUrl,
      JWT_ISSUER: issuer.url,
      JWT_AUDIENCE: issuer.audience,
      ROLEMAPPER_API_TOKENS: BENCH_API_TOKEN,
      WEBHOOK_PORT: String(webhookPort),
      ADMIN_HTTP_HOST: "127.0.0.1",
      ADMIN_HTTP_PORT: String(adminPort),
      GRPC_HOST: "127.0.0.1",
      GRPC_PORT: String(grpcPort),
      METRICS_HOST: "127.0.0.1",
      METRICS_PORT: String(metricsPort),
      LOG_LEVEL: "warn",
      SHUTDOWN_DRAIN_S: "0",
      STORE_TIMEOUT_MS: "600000",
      ...storeEnv,
    },
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
  };
  try {
    await untilReady(metricsPort, child, readyTimeoutMs, () => output);
  } catch (error) {
    await stop();
    throw error;
  }
  const pid = child.pid!;
  return {
    pid,
    webhookPort,
    adminPort,
    metricsPort,
    readyMs: Math.round(performance.now() - started),
    cpuMicros: () => cpuMicros(pid),
    rssMb: () => rss(pid),
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
    stop,
  };
}

async function untilReady(
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  output: () => string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`a replica exited (${child.exitCode}):\n${output()}`);
    const status = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`a replica was not ready within ${timeoutMs} ms:\n${output()}`);
}

function rss(pid: number): number {
  const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
}
