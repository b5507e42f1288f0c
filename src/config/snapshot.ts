import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

/** How each replica's in-memory snapshot follows the store. */
export interface SnapshotConfig {
  /** Full reloads of what no journal follows: the mappings with `sync: "full"`, Hasura's metadata. */
  readonly refreshMs: number;
  /** The safety net's period, following the journal (SNAPSHOT_VERIFY_S). */
  readonly verifyMs: number;
  readonly maxLagMs: number;
  readonly maxStalenessMs: number;
  /** `journal`: reload only what changed; `full`: reload everything on every change (SNAPSHOT_SYNC). */
  readonly sync: "journal" | "full";
  /** Wake at once on PostgreSQL's change notifications (SNAPSHOT_LISTEN). */
  readonly listen: boolean;
}

/** Reads SNAPSHOT_*. */
export function readSnapshot(env: EnvReader): SnapshotConfig {
  const d = DEFAULTS.snapshot;
  return {
    refreshMs: env.secondsAsMs("SNAPSHOT_REFRESH_S", d.refreshMs, 1, 86_400),
    verifyMs: env.secondsAsMs("SNAPSHOT_VERIFY_S", d.verifyMs, 1, 86_400),
    maxLagMs: env.secondsAsMs("SNAPSHOT_MAX_LAG_S", d.maxLagMs, 0.1, 3600),
    maxStalenessMs: env.secondsAsMs("SNAPSHOT_MAX_STALENESS_S", d.maxStalenessMs, 1, 86_400),
    sync: env.oneOf("SNAPSHOT_SYNC", ["journal", "full"], d.sync),
    listen: env.bool("SNAPSHOT_LISTEN", d.listen),
  };
}
