import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

/** How the sidecar runs: production or not, and whether tokens come from the local development issuer. */
export interface RunMode {
  readonly production: boolean;
  /** Local development issuer instead of a JWKS: never in production. */
  readonly devMode: boolean;
  /** JWKS_URL; development mode when unset. */
  readonly jwksUrl: string | undefined;
}

/** How long a stop waits: first for callers to go, then for requests in flight (SHUTDOWN_DRAIN_S, SHUTDOWN_GRACE_S). */
export interface ShutdownConfig {
  readonly drainMs: number;
  readonly graceMs: number;
}

/** Reads NODE_ENV and JWKS_URL; development mode is refused in production. */
export function readRunMode(env: EnvReader): RunMode {
  const production = env.raw("NODE_ENV") === "production";
  const jwksUrl = env.url("JWKS_URL");
  const devMode = jwksUrl === undefined;
  if (devMode && production) {
    env.fail(
      "JWKS_URL",
      "required when NODE_ENV=production (development mode is refused in production)",
      undefined,
      0,
    );
  }
  return { production, devMode, jwksUrl };
}

/** Reads SHUTDOWN_DRAIN_S and SHUTDOWN_GRACE_S. */
export function readShutdown(env: EnvReader): ShutdownConfig {
  const d = DEFAULTS.shutdown;
  return {
    drainMs: env.secondsAsMs("SHUTDOWN_DRAIN_S", d.drainMs, 0, 300),
    graceMs: env.secondsAsMs("SHUTDOWN_GRACE_S", d.graceMs, 0, 300),
  };
}
