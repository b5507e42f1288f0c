import { fork } from "node:child_process";
import { Agent, request } from "node:http";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { percentile, round, type LoadResult } from "./load.js";

/** A paced run: requests evenly spaced at `rate` per second, whatever the answers' latency (open loop). */
export interface PacedLoadOptions {
  readonly port: number;
  /** JSON bodies, sent round-robin. */
  readonly bodies: readonly string[];
  readonly rate: number;
  readonly seconds: number;
  /** Keep-alive connections available; a request waits for one only when all are busy. */
  readonly connections: number;
}

/** Latency also counted from each request's scheduled time: includes any delay of the generator itself. */
export interface PacedLoadResult extends LoadResult {
  readonly p90Ms: number;
  readonly p999Ms: number;
  readonly p99FromScheduleMs: number;
  /** The generator's own event-loop delay at p99: a tail it adds to every figure above. */
  readonly generatorLoopDelayP99Ms: number;
}

/**
 * POST /v1/authenticate at an even pace: request i is due at start + i/rate and sent on the first timer tick at or
 * after that (about every millisecond). autocannon's `overallRate` sends each second's quota back to back at the
 * start of the second, so its latencies measure a one-second burst at full concurrency, not a steady rate.
 */
export async function runPacedLoad(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  try {
    const post = (body: string) => postOnce(agent, options.port, body);
    // Opens the connections before the clock starts.
    await Promise.all(options.bodies.slice(0, options.connections).map(post));

    const total = Math.round(options.rate * options.seconds);
    const intervalMs = 1000 / options.rate;
    const fromSend: number[] = [];
    const fromSchedule: number[] = [];
    let non2xx = 0;
    let errors = 0;
    const pending: Promise<void>[] = [];
    const loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    const started = performance.now();
    await new Promise<void>((done) => {
      let sent = 0;
      const pump = () => {
        const now = performance.now();
        while (sent < total && started + sent * intervalMs <= now) {
          const due = started + sent * intervalMs;
          const body = options.bodies[sent % options.bodies.length] as string;
          sent++;
          const t0 = performance.now();
          pending.push(
            post(body).then(
              (status) => {
                const end = performance.now();
                fromSend.push(end - t0);
                fromSchedule.push(end - due);
                if (status < 200 || status > 299) non2xx++;
              },
              () => {
                errors++;
              },
            ),
          );
        }
        if (sent < total) setTimeout(pump, Math.max(0, started + sent * intervalMs - performance.now()));
        else done();
      };
      pump();
    });
    await Promise.all(pending);
    loopDelay.disable();
    const elapsedS = (performance.now() - started) / 1000;
    fromSend.sort((a, b) => a - b);
    fromSchedule.sort((a, b) => a - b);
    return {
      requestsPerSecond: round(fromSend.length / elapsedS),
      requests: fromSend.length,
      p50Ms: round(percentile(fromSend, 0.5), 3),
      p90Ms: round(percentile(fromSend, 0.9), 3),
      p99Ms: round(percentile(fromSend, 0.99), 3),
      p999Ms: round(percentile(fromSend, 0.999), 3),
      p99FromScheduleMs: round(percentile(fromSchedule, 0.99), 3),
      generatorLoopDelayP99Ms: round(loopDelay.percentile(99) / 1e6, 3),
      non2xx,
      errors,
    };
  } finally {
    agent.destroy();
  }
}

/**
 * runPacedLoad in a process of its own that does nothing else: the benchmark process holds every token and body
 * of the run, and its garbage collections could otherwise show up as the targets' latency.
 */
export async function runPacedLoadApart(options: PacedLoadOptions): Promise<PacedLoadResult> {
  const child = fork(fileURLToPath(new URL("./paced-load-child.ts", import.meta.url)), [], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const answer = new Promise<PacedLoadResult>((resolve, reject) => {
    child.once("message", (message: { result?: PacedLoadResult; failed?: string }) => {
      if (message.result) resolve(message.result);
      else reject(new Error(`paced load: ${message.failed ?? "no result"}`));
    });
    child.once("exit", (code) => reject(new Error(`paced load exited (${code}) without a result`)));
  });
  child.send(options);
  return answer;
}

function postOnce(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/v1/authenticate",
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}
