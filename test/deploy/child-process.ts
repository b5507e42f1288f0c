import { spawn, type ChildProcess } from "node:child_process";
import { expect, vi } from "vitest";

/** A started process whose output is collected for assertion messages. */
export interface Started {
  readonly child: ChildProcess;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (null when ended by a signal) once the process has exited. */
  readonly exited: Promise<number | null>;
}

/** Starts `command` with exactly `env` (nothing inherited), collecting its output. */
export function start(command: string, args: string[], cwd: string, env: Record<string, string>): Started {
  const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, output: () => output, exited };
}

/** Resolves with the exit code, or rejects when the process is still running after `ms` (and kills it). */
export async function exitWithin(started: Started, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      started.child.kill("SIGKILL");
      reject(new Error(`still running after ${ms} ms; output:\n${started.output()}`));
    }, ms);
  });
  try {
    return await Promise.race([started.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `url` until it answers 200, the process exits, or `ms` pass; returns the last answer's status and body.
 * A bound on waiting, not an assertion on speed: a slow machine only waits longer.
 */
export async function waitFor200(
  url: string,
  started: Started,
  ms: number,
): Promise<{ status: number; body: string }> {
  let last = { status: 0, body: "" };
  // Once the process has exited or the wait has ended, polling stops: the pending fetch is aborted and the next
  // attempt returns at once instead of polling a dead port until `ms`.
  const stop = new AbortController();
  const answered = vi.waitFor(
    async () => {
      if (stop.signal.aborted) return last;
      const response = await fetch(url, { signal: stop.signal });
      last = { status: response.status, body: await response.text() };
      expect(last.status).toBe(200);
      return last;
    },
    { timeout: ms, interval: 200 },
  );
  // The caller asserts on the last answer, with the output, whether it came or the wait ended without it.
  try {
    return await Promise.race([answered.catch(() => last), started.exited.then(() => last)]);
  } finally {
    stop.abort();
    await answered.catch(() => undefined);
  }
}
