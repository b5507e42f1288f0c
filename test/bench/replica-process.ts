import type { JwksIssuer } from "../support/jwks-issuer.js";
import { cpuMicros } from "./load.js";
import { procStatusMb, startSidecar, type SidecarProcess } from "./sidecar-process.js";

/** A built sidecar (`node dist/main.js`) running as a replica of one deployment. */
export interface ReplicaProcess extends SidecarProcess {
  /** User plus system CPU time so far, in microseconds. */
  cpuMicros(): number;
  /** Resident memory now, in MB (the kernel's VmRSS). */
  rssMb(): number;
  /** The text of its /metrics. */
  metrics(): Promise<string>;
}

/** Starts one replica on `storeEnv` and waits until it is ready (up to `readyTimeoutMs`). */
export async function startReplica(
  issuer: JwksIssuer,
  storeEnv: Record<string, string>,
  readyTimeoutMs: number,
): Promise<ReplicaProcess> {
  const sidecar = await startSidecar({
    issuer,
    nodeArgs: ["--max-old-space-size=2048", "dist/main.js"],
    env: { STORE_TIMEOUT_MS: "600000", ...storeEnv },
    readyTimeoutMs,
    pollMs: 20,
  });
  const { pid, metricsPort } = sidecar;
  return {
    ...sidecar,
    cpuMicros: () => cpuMicros(pid),
    rssMb: () => Math.round(procStatusMb(pid, "VmRSS") * 10) / 10,
    metrics: async () => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text(),
  };
}
