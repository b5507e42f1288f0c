/**
 * The stand-in of the previous webhook (test/support/previous-service.ts) in its own process, holding the benchmark
 * mapping rebuilt from BENCH_WORKLOAD and trusting the run's issuer: the shadow mode's other side.
 */
import { startPreviousService, type PreviousMapping } from "../support/previous-service.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { buildWorkload, type WorkloadSize } from "./workload.js";

try {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const workload = buildWorkload(JSON.parse(env("BENCH_WORKLOAD")) as WorkloadSize);
  const grants: Record<string, string[]> = {};
  for (const map of [workload.userGrants, workload.groupGrants]) {
    for (const [role, subjects] of map) (grants[role] ??= []).push(...subjects);
  }
  const mapping: PreviousMapping = { roles: workload.roles, grants };
  const service = await startPreviousService({
    jwksUrl: env("PREVIOUS_JWKS_URL"),
    issuer: env("PREVIOUS_ISSUER"),
    audience: env("PREVIOUS_AUDIENCE"),
    mapping,
  });
  serveUntilStopped({ url: service.url }, () => service.close());
} catch (error) {
  reportFailure(error);
}
