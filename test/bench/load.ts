import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

/** One load run against a webhook listener. */
export interface LoadOptions {
  readonly port: number;
  /** JSON bodies, sent round-robin (each connection takes the next one). */
  readonly bodies: readonly string[];
  readonly connections: number;
  /** Seconds; or `amount` requests in total. */
  readonly duration?: number;
  readonly amount?: number;
  /** Requests per second over all connections (open loop); unset = as fast as answered. */
  readonly rate?: number;
  /** The target's process id: its CPU time per answer is measured too (Linux). */
  readonly pid?: number | undefined;
}

/** What one load run measured. */
export interface LoadResult {
  readonly requestsPerSecond: number;
  readonly requests: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Answers other than 2xx, and connection errors or timeouts: a valid run has none. */
  readonly non2xx: number;
  readonly errors: number;
  /**
   * CPU time the target spent per answer, in microseconds (with `pid`): unlike the rate, hardly moved by other
   * processes sharing the cores, so it compares targets measured under different contention.
   */
  readonly cpuUsPerRequest?: number;
}

/**
 * Drives POST /v1/authenticate on 127.0.0.1 with autocannon (keep-alive connections, no pipelining) and
 * computes percentiles from every response time at full precision (autocannon's histogram keeps whole ms).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const bodies = options.bodies;
  const latencies: number[] = [];
  const instance = autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    pipelining: 1,
    timeout: 30,
    ...(options.duration !== undefined ? { duration: options.duration } : {}),
    ...(options.amount !== undefined ? { amount: options.amount } : {}),
    ...(options.rate !== undefined ? { overallRate: options.rate } : {}),
    requests: [
      {
        method: "POST",
        path: "/v1/authenticate",
        headers: { "content-type": "application/json" },
        setupRequest: (request) => ({ ...request, body: bodies[next++ % bodies.length] as string }),
      },
    ],
  });
  instance.on("response", (_client: unknown, _status: number, _bytes: number, time: number) => {
    latencies.push(time);
  });
  const cpuBefore = options.pid === undefined ? undefined : cpuMicros(options.pid);
  const result = await instance;
  const cpu = cpuBefore === undefined ? undefined : cpuMicros(options.pid as number) - cpuBefore;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: round(result.requests.total / (result.duration || 1)),
    requests: result.requests.total,
    p50Ms: round(percentile(latencies, 0.5), 3),
    p99Ms: round(percentile(latencies, 0.99), 3),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ...(cpu === undefined ? {} : { cpuUsPerRequest: round(cpu / Math.max(1, result.requests.total), 1) }),
  };
}

let ticksPerSecond: number | undefined;

/** User plus system CPU time of process `pid` so far, in microseconds (from /proc/<pid>/stat). */
export function cpuMicros(pid: number): number {
  ticksPerSecond ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces): state is the 3rd field, utime the 14th, stime the 15th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) / ticksPerSecond) * 1e6;
}

/** The value at quantile `q` of sorted `values`. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  return values[Math.min(values.length - 1, Math.floor(q * values.length))] as number;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
