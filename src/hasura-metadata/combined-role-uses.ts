import {
  CombinedRoleLedgerMissing,
  type CombinedRoleEntry,
  type CombinedRoleLedger,
} from "../core/combined-roles.js";
import { UnavailableError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";

/** COMBINED_ROLE_IDLE_S: where uses are shared, how long a role may go unused, and who this replica is. */
export interface IdleDropOptions {
  readonly ledger: CombinedRoleLedger;
  readonly idleMs: number;
  /** This replica, as the holder of the sweep. */
  readonly holder: string;
  /** Milliseconds since the epoch; Date.now by default (tests inject theirs). */
  readonly now?: () => number;
  /** Waits between looks at a role another replica is dropping; a timer by default. */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Most roles one sweep drops: each drop rebuilds Hasura's schema. */
export const SWEEP_MAX = 20;

/** A role is answered until its last recorded use + idle − this: a sweeper's clock may run ahead of this one. */
export const TRUST_MARGIN_MS = 5 * 60_000;

/** The first wait for a role another replica is dropping, doubled up to the creation timeout. */
const FIRST_LOOK_MS = 50;

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/**
 * The uses of combined roles, shared through the ledger, so that a role unused for the idle period on every
 * replica is dropped by one of them — and none answers it meanwhile. A replica answers a role without asking
 * only until its own last recorded use + idle (less a margin): a sweeper claims only roles nobody recorded a use
 * of within the idle period, so no replica still trusts a role being dropped; any other use first records itself
 * in the ledger (`claim`), which either keeps the role from being claimed or waits until its drop is done.
 */
export class CombinedRoleUses {
  private readonly trusted = new Map<string, number>();
  private used = new Set<string>();
  private missing = false;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly options: IdleDropOptions,
    private readonly createTimeoutMs: number,
    private readonly logger: CoreLogger,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? timer;
  }

  /** Whether the role may be answered without asking the ledger; a yes counts as a use. */
  trusts(name: string): boolean {
    if (this.missing) return true;
    const until = this.trusted.get(name);
    if (until === undefined || this.now() >= until) return false;
    this.used.add(name);
    return true;
  }

  /**
   * Records a use before the role is answered. Resolves true when the role may be gone from the metadata (the
   * ledger had no row for it) and must be made; waits while another replica is dropping it (`localDrop` when it
   * is this one), at most the creation timeout.
   */
  async claim(role: CombinedRoleEntry, localDrop: () => Promise<void> | undefined): Promise<boolean> {
    const deadline = this.now() + this.createTimeoutMs;
    for (let wait = FIRST_LOOK_MS; ; wait = Math.min(wait * 2, this.createTimeoutMs)) {
      const at = this.now();
      const recorded = await this.ledger((ledger) => ledger.recordUses([role], at));
      if (recorded === undefined) return false;
      if (!recorded.dropping.includes(role.name)) {
        this.trust(role.name, at);
        return recorded.added.includes(role.name);
      }
      if (this.now() >= deadline) {
        throw new UnavailableError(`combined role "${role.name}" is being dropped by another replica`);
      }
      await (localDrop()?.catch(() => undefined) ?? this.sleep(wait));
    }
  }

  /**
   * Records the uses since the last flush on the rows that exist (a row made here would outlive a role another
   * replica dropped and forgot meanwhile); returns the roles to forget (being dropped, or already gone).
   */
  async flush(known: ReadonlyMap<string, readonly string[]>): Promise<string[]> {
    const names = [...this.used].filter((name) => known.has(name));
    this.used = new Set();
    if (names.length === 0) return [];
    const at = this.now();
    let touched;
    try {
      touched = await this.ledger((ledger) => ledger.touchUses(names, at));
    } catch (error) {
      for (const name of names) this.used.add(name);
      throw error;
    }
    if (touched === undefined) return [];
    const kept = new Set(touched);
    const gone = names.filter((name) => !kept.has(name));
    for (const name of touched) this.trust(name, at);
    for (const name of gone) this.trusted.delete(name);
    return gone;
  }

  /**
   * One sweep, unless another replica holds it: rows for the roles just learnt from the metadata (`exported`)
   * without one, then at most SWEEP_MAX roles idle on every replica claimed and dropped one at a time by `drop`,
   * each forgotten once dropped.
   */
  async sweep(
    exported: ReadonlyMap<string, readonly string[]> | undefined,
    drop: (role: CombinedRoleEntry) => Promise<void>,
  ): Promise<void> {
    const now = this.now();
    const until = now + (SWEEP_MAX + 2) * this.createTimeoutMs + 60_000;
    const taken = await this.ledger((ledger) => ledger.takeSweep(this.options.holder, now, until));
    if (!taken) return;
    const entries = [...(exported ?? [])].map(([name, parents]) => ({ name, parents }));
    if (entries.length > 0) await this.ledger((ledger) => ledger.adopt(entries, now));
    const idleBefore = now - this.options.idleMs;
    const claimed = await this.ledger((ledger) => ledger.claimIdle(idleBefore, now, until, SWEEP_MAX));
    await this.dropClaimed(claimed ?? [], until, drop);
  }

  /** Forgets what is known of roles no longer in the metadata. */
  keepOnly(known: ReadonlyMap<string, readonly string[]>): void {
    for (const name of this.trusted.keys()) if (!known.has(name)) this.trusted.delete(name);
  }

  // One at a time, each forgotten once dropped, under this sweep's hold only: past it a use may cancel the claim,
  // or another sweeper take the role over. A role not dropped is released at once: requests needing it would
  // otherwise wait for the hold to end, and be denied.
  private async dropClaimed(
    claimed: readonly CombinedRoleEntry[],
    until: number,
    drop: (role: CombinedRoleEntry) => Promise<void>,
  ): Promise<void> {
    const failed: string[] = [];
    let firstError: unknown;
    for (const [i, role] of claimed.entries()) {
      const hold = await this.holdOf(role.name, until);
      if (hold === "over") {
        await this.ledger((ledger) =>
          ledger.release(
            claimed.slice(i).map((r) => r.name),
            until,
          ),
        );
        break;
      }
      if (hold === "lost") continue;
      this.trusted.delete(role.name);
      this.used.delete(role.name);
      try {
        await drop(role);
      } catch (error) {
        // One refused drop (logged and counted by `drop`) does not keep the others from being dropped.
        if (failed.push(role.name) === 1) firstError = error;
        await this.ledger((ledger) => ledger.release([role.name], until));
        continue;
      }
      await this.ledger((ledger) => ledger.forgetHeld(role.name, until));
    }
    if (failed.length > 0) throw new IdleDropFailed(failed, firstError);
  }

  // A drop starts only if it ends before the hold does, by this clock, and the ledger still shows this hold (a
  // replica whose clock runs ahead of this one may have ended it).
  private async holdOf(name: string, until: number): Promise<"ours" | "lost" | "over"> {
    const lasts = () => this.now() + this.createTimeoutMs < until;
    if (!lasts()) return "over";
    if (!(await this.ledger((ledger) => ledger.holds(name, until)))) return "lost";
    return lasts() ? "ours" : "over";
  }

  private trust(name: string, at: number): void {
    this.trusted.set(name, at + this.options.idleMs - TRUST_MARGIN_MS);
  }

  // A store without the ledger table keeps every role, as before COMBINED_ROLE_IDLE_S: said once.
  private async ledger<T>(call: (ledger: CombinedRoleLedger) => Promise<T>): Promise<T | undefined> {
    if (this.missing) return undefined;
    try {
      return await call(this.options.ledger);
    } catch (error) {
      if (!(error instanceof CombinedRoleLedgerMissing)) throw error;
      this.missing = true;
      this.logger.warn(
        { event: "combined_roles_ledger_missing", err: error.message },
        "combined roles: the store has no ledger of their uses (apply deploy/sql/004_combined_roles.sql); " +
          "idle combined roles are kept",
      );
      return undefined;
    }
  }
}

/** Idle roles a sweep claimed but could not drop, each logged and counted as it failed; their holds are released. */
export class IdleDropFailed extends Error {
  constructor(
    readonly roles: readonly string[],
    cause: unknown,
  ) {
    super(`combined roles: dropping idle ${roles.map((role) => `"${role}"`).join(", ")} failed`, { cause });
    this.name = "IdleDropFailed";
  }
}
