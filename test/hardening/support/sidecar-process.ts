import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { openDevIssuer, type DevIssuer } from "../../../src/identity/dev-issuer.js";
import type { SidecarAddresses } from "../../../src/wiring/sidecar.js";

/** A hardening sidecar in a process of its own, so that its memory is measured apart from the attacker's. */
export interface SidecarProcess {
  readonly pid: number;
  readonly ports: SidecarAddresses;
  readonly webhookUrl: string;
  readonly metricsUrl: string;
  readonly grpcAddress: string;
  /** The child's development issuer (same data directory, hence the same key). */
  readonly issuer: DevIssuer;
  stop(): Promise<void>;
}

interface Ready {
  readonly ports: SidecarAddresses;
  readonly dataDir: string;
}

/**
 * Forks `sidecar-child.ts` (the sidecar as startTestSidecar starts it, FakeStore, hardening mapping) with `env`
 * and resolves once it listens. Stopping asks it to stop and waits for it to exit (SIGKILL after 15 s).
 */
export async function startSidecarProcess(env: Record<string, string>): Promise<SidecarProcess> {
  const child = fork(fileURLToPath(new URL("./sidecar-child.ts", import.meta.url)), [JSON.stringify(env)], {
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "ignore", "inherit", "ipc"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<Ready>((resolve, reject) => {
    child.once("message", (message: { ready?: Ready }) =>
      message.ready ? resolve(message.ready) : reject(new Error("the sidecar child failed to start")),
    );
    child.once("exit", (code) => reject(new Error(`the sidecar child exited (${code}) before it was ready`)));
  });
  const { ports } = ready;
  return {
    pid: child.pid!,
    ports,
    webhookUrl: `http://127.0.0.1:${ports.webhookPort}`,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}/metrics`,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    issuer: await openDevIssuer(ready.dataDir),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send("stop");
      const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(killer);
    },
  };
}
