import type { CoreLogger } from "./logger-port.js";
import type { SyncActivity } from "./sync-counters.js";

/** How the snapshot follows the store. */
export interface SnapshotSyncOptions {
  /**
   * The safety net's period: the store's checksum is compared with the snapshot's, and everything reloaded only
   * when they differ (every replica jitters it by ±10 %). With `mode: "full"`, a plain full reload.
   */
  readonly verifyMs: number;
  /** How often the store's change marker is checked (also after a change notification wakes it). */
  readonly pollMs: number;
  /** How long decisions may go on from the last snapshot while the store is unreachable. */
  readonly maxStalenessMs: number;
  readonly logger: CoreLogger;
  /** Writes allowed to wait for the store at once; more fail with UnavailableError (default 1000). */
  readonly maxQueuedWrites?: number;
  /** Load the group pins with the mappings (when group names are pinned; the table may not exist otherwise). */
  readonly groupPins?: boolean;
  /** Role ids left out of every snapshot (default: Hasura's `admin` only). */
  readonly reservedRoles?: ReadonlySet<string>;
  /**
   * `journal` (the default): reload only the roles the journal lists as changed by others; `full`: reload
   * everything whenever the marker moves (stores without the journal, and the benchmark's baseline).
   */
  readonly mode?: "journal" | "full";
  /** Most roles reloaded one by one after a change; more at once reload everything (default 1,000). */
  readonly maxChangedRoles?: number;
  /** Poll at once when the store says something changed, where it can (PostgreSQL's NOTIFY; default true). */
  readonly listen?: boolean;
  readonly now?: () => number;
  /** For the safety net's jitter (default Math.random). */
  readonly random?: () => number;
}

/** What SnapshotSync.stats() reports. */
export interface SnapshotStats {
  readonly loaded: boolean;
  /** Milliseconds since the last full load. */
  readonly ageMs: number;
  /** Milliseconds since the store last answered. */
  readonly staleForMs: number;
  readonly roles: number;
  readonly grants: number;
  /** Role and grant rows of reserved role ids the last load left out. */
  readonly reservedRowsIgnored: number;
  /** How the snapshot has followed the store since start. */
  readonly activity: SyncActivity;
}
