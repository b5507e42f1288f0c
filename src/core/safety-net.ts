import type { CoreLogger } from "./logger-port.js";
import type { Snapshot } from "./snapshot.js";
import type { RoleMappingStore } from "./store-port.js";

/** What one safety-net check found: the checksums equal, different, or the store could not take one now. */
export type CheckOutcome = "match" | "mismatch" | "untaken";

/** What the sync does after a check: nothing until the next one, or reload everything and why. */
export type CheckVerdict = "keep" | "checksum" | "unchecked";

// Checks a store could not take (Hasura's marker kept moving) before everything is reloaded instead.
const MAX_UNTAKEN_CHECKS = 10;

/**
 * The periodic check that the snapshot still equals the store, in place of the periodic full reload: the store's
 * checksum (computed by the database) against the snapshot's (kept up to date as it changes). Every replica
 * jitters its period by ±10 %, so that replicas do not all ask the store at once.
 */
export class SafetyNet {
  private next = 0;
  private untaken = 0;

  constructor(
    private readonly periodMs: number,
    private readonly logger: CoreLogger,
    private readonly random: () => number = Math.random,
  ) {}

  /** True when a check is due at `now`. */
  due(now: number): boolean {
    return now >= this.next;
  }

  /** Schedules the next check one (jittered) period after `now`: after a full load, or a matching check. */
  restart(now: number): void {
    this.next = now + Math.round(this.periodMs * (0.9 + 0.2 * this.random()));
  }

  /**
   * Runs one check of `snapshot` (at marker `marker`), leaving out on both sides the roles the store says changed
   * since: those are caught up at the next poll, and what is compared is what both have seen.
   */
  async check(store: RoleMappingStore, snapshot: Snapshot, marker: string, now: number) {
    const taken = await store.checksum(marker);
    const outcome: CheckOutcome =
      taken === undefined
        ? "untaken"
        : snapshot.checksumExcept(taken.changedRoles) === taken.checksum
          ? "match"
          : "mismatch";
    return { outcome, verdict: this.verdict(outcome, marker, now) };
  }

  private verdict(outcome: CheckOutcome, marker: string, now: number): CheckVerdict {
    if (outcome === "untaken" && ++this.untaken < MAX_UNTAKEN_CHECKS) {
      // Tried again at a quieter moment, not at every poll: each try costs the store a pass over every row.
      this.next = now + Math.min(60_000, this.periodMs / 10);
      return "keep";
    }
    this.untaken = 0;
    if (outcome === "match") {
      this.restart(now);
      return "keep";
    }
    if (outcome === "mismatch") {
      this.logger.warn(
        { event: "snapshot_checksum_mismatch", marker },
        "the mappings differ from the store's though the journal listed no change: reloading them all",
      );
      return "checksum";
    }
    return "unchecked";
  }
}
