import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

/** A benchmark target running in its own Node process. */
export interface Child<Info> {
  readonly info: Info;
  readonly process: ChildProcess;
  /** Asks the child to stop and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of a child process. */
export interface ChildOptions {
  readonly env?: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  readonly nodeFlags?: readonly string[];
  /** Where the child's stdout goes: dropped (the default, /dev/null) or shown. */
  readonly stdout?: "ignore" | "inherit";
  readonly readyTimeoutMs?: number;
}

/**
 * Forks `test/bench/<script>` under tsx, waits for its `{ ready: info }` message, and stops it with a `stop`
 * message (the child exits by itself; SIGKILL after 15 s).
 */
export async function startChild<Info>(script: string, options: ChildOptions = {}): Promise<Child<Info>> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = fork(path, [], {
    execArgv: ["--import", "tsx", ...(options.nodeFlags ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ["ignore", options.stdout ?? "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${script}: not ready within ${options.readyTimeoutMs ?? 120_000} ms`)),
      options.readyTimeoutMs ?? 120_000,
    );
    child.on("message", (message: { ready?: Info; failed?: string }) => {
      if (message.failed !== undefined) reject(new Error(`${script}: ${message.failed}`));
      if (message.ready !== undefined) resolve(message.ready);
    });
    child.once("exit", (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
    child.once("spawn", () => undefined);
    void exited.then(() => clearTimeout(timer));
    child.once("message", () => clearTimeout(timer));
  });
  return {
    info,
    process: child,
    async stop() {
      if (child.exitCode !== null) return;
      child.send("stop");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** In a child: reports readiness and calls `stop` when the parent asks (or disconnects), then exits. */
export function serveUntilStopped(info: unknown, stop: () => Promise<void>): void {
  let stopping = false;
  const finish = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on("message", (message) => {
    if (message === "stop") finish();
  });
  process.on("disconnect", finish);
  process.send?.({ ready: info });
}

/** In a child: reports a startup failure to the parent and exits. */
export function reportFailure(error: unknown): never {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.send?.({ failed: message });
  console.error(message);
  process.exit(1);
}
