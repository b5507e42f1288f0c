import type { CheckOutcome } from "./safety-net.js";
import type { JournalGap } from "./store-port.js";

/** Why everything was loaded: the first load, a gap in the journal, the safety net, or full mode. */
export type FullLoadReason =
  | "start"
  | "requested"
  | JournalGap
  /** `mode: "full"`: the marker moved. */
  | "changed"
  /** `mode: "full"`, or no journal: the verify period passed. */
  | "periodic"
  /** The safety net found the checksums different. */
  | "checksum"
  /** The safety net could not get a checksum from the store for many tries. */
  | "unchecked";

/** How a snapshot has followed its store since start, for metrics and the benchmark. */
export interface SyncActivity {
  readonly fullLoads: Readonly<Partial<Record<FullLoadReason, number>>>;
  /** Catch-ups from the journal. */
  readonly catchUps: number;
  /** Roles reloaded by catch-ups. */
  readonly rolesReloaded: number;
  /** Group pins reloaded by catch-ups. */
  readonly pinsReloaded: number;
  readonly checks: Readonly<Record<CheckOutcome, number>>;
}

/** The counts behind SyncActivity. */
export class SyncCounters {
  private readonly fullLoads: Partial<Record<FullLoadReason, number>> = {};
  private catchUps = 0;
  private rolesReloaded = 0;
  private pinsReloaded = 0;
  private readonly checks: Record<CheckOutcome, number> = { match: 0, mismatch: 0, untaken: 0 };

  loaded(reason: FullLoadReason): void {
    this.fullLoads[reason] = (this.fullLoads[reason] ?? 0) + 1;
  }

  caughtUp(roles: number, pins: number): void {
    this.catchUps++;
    this.rolesReloaded += roles;
    this.pinsReloaded += pins;
  }

  checked(outcome: CheckOutcome): void {
    this.checks[outcome]++;
  }

  activity(): SyncActivity {
    return {
      fullLoads: { ...this.fullLoads },
      catchUps: this.catchUps,
      rolesReloaded: this.rolesReloaded,
      pinsReloaded: this.pinsReloaded,
      checks: { ...this.checks },
    };
  }
}
