import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, get } from "node:http";
import { freePort } from "../support/free-port.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import { ROOT } from "./build.js";
import { BENCH_API_TOKEN } from "./seed.js";

/** A built sidecar (`dist/main.js`) in a process of its own, on free ports of 127.0.0.1. */
export interface SidecarProcess {
  readonly pid: number;
  readonly webhookPort: number;
  readonly adminPort: number;
  readonly metricsPort: number;
  /** From spawning to the first `/readyz` 200 (the first full load included). */
  readonly readyMs: number;
  stop(): Promise<void>;
}

/** How one benchmark starts the sidecar. */
export interface SidecarStart {
  readonly issuer: JwksIssuer;
  /** What `node` is given: its flags and the script. */
  readonly nodeArgs: readonly string[];
  /** The store's variables, and any other beyond the ones every benchmark sets. */
  readonly env: Record<string, string>;
  readonly readyTimeoutMs: number;
  /** How often `/readyz` is asked: the resolution of `readyMs`. */
  readonly pollMs: number;
}

/** Starts the sidecar (NODE_ENV=production, warnings only) and waits until it is ready; stops it if it is not. */
export async function startSidecar(options: SidecarStart): Promise<SidecarProcess> {
  const [webhookPort, adminPort, grpcPort, metricsPort] = [
    await freePort(),
    await freePort(),
    await freePort(),
    await freePort(),
  ];
  const started = performance.now();
  const child = spawn(process.execPath, options.nodeArgs, {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH ?? "",
      NODE_ENV: "production",
      JWKS_URL: options.issuer.jwksUrl,
      JWT_ISSUER: options.issuer.url,
      JWT_AUDIENCE: options.issuer.audience,
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
      ...options.env,
    },
  });
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    child.kill("SIGTERM");
    await exited;
  };
  const deadline = started + options.readyTimeoutMs;
  // One kept-alive connection, asked one poll at a time: a new connection every poll (every 2 ms) cost the
  // sidecar CPU until ready in accepts and socket set-ups, counted in its start-up figures.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    while ((await readyz(webhookPort, agent)) !== 200) {
      const failure =
        child.exitCode !== null
          ? `the sidecar exited (${child.exitCode})`
          : performance.now() > deadline
            ? `the sidecar was not ready within ${options.readyTimeoutMs} ms`
            : undefined;
      if (failure !== undefined) {
        await stop();
        throw new Error(`${failure}:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs));
    }
  } finally {
    agent.destroy();
  }
  const readyMs = Math.round(performance.now() - started);
  return { pid: child.pid!, webhookPort, adminPort, metricsPort, readyMs, stop };
}

function readyz(port: number, agent: Agent): Promise<number> {
  return new Promise((resolve) => {
    const req = get({ host: "127.0.0.1", port, path: "/readyz", agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", () => resolve(0));
  });
}

/** A field of the kernel's account of a process's memory (Linux /proc), in MB. */
export function procStatusMb(pid: number, field: "VmRSS" | "VmHWM"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1];
  if (kb === undefined) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(kb) / 1024;
}
