import type { CoreLogger } from "./logger-port.js";

/**
 * When the store last answered, and the log lines of losing and finding it again: one line when it goes away,
 * one when decisions start failing closed, one when it is back, never one per poll or refused request.
 */
export class StoreContact {
  private lastContact = 0;
  private healthy = true;
  private failingClosed = false;

  constructor(
    private readonly logger: CoreLogger,
    private readonly maxStalenessMs: number,
    private readonly now: () => number,
  ) {}

  /** Milliseconds since the store last answered. */
  staleForMs(): number {
    return this.now() - this.lastContact;
  }

  /** True while the last answer is within the staleness bound. */
  fresh(): boolean {
    return this.staleForMs() <= this.maxStalenessMs;
  }

  /** The store answered. */
  contact(): void {
    this.lastContact = this.now();
    this.failingClosed = false;
    if (!this.healthy) {
      this.healthy = true;
      this.logger.info({ event: "store_recovered" }, "role mapping store reachable again");
    }
  }

  /** The store failed to answer; `loaded` says whether decisions go on from a snapshot meanwhile. */
  lost(error: unknown, loaded: boolean): void {
    if (!this.healthy) return;
    this.healthy = false;
    const message = error instanceof Error ? error.message : String(error);
    this.logger.warn(
      { event: "store_unreachable", err: message },
      loaded
        ? "role mapping store unreachable: deciding from the last snapshot"
        : "role mapping store unreachable: not ready until the first load succeeds",
    );
  }

  // Logged once when decisions start failing closed, not once per refused request.
  noteStaleness(loaded: boolean): void {
    if (this.failingClosed || !loaded || this.fresh()) return;
    this.failingClosed = true;
    this.logger.error(
      { event: "store_stale", stale_ms: this.staleForMs() },
      "role mapping store unreachable beyond SNAPSHOT_MAX_STALENESS_S: decisions fail closed",
    );
  }
}
