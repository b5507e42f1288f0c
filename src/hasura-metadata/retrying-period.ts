/** Runs `run` after `ms`; the returned function cancels it. */
export type Schedule = (run: () => void, ms: number) => () => void;

/** What a RetryingPeriod is built from. */
export interface RetryingPeriodOptions {
  /** One round of the work; a rejection schedules the next round sooner. */
  readonly step: () => Promise<void>;
  /** Between rounds that succeed. */
  readonly periodMs: number;
  /** The first wait after a failure, doubled after each further one up to `maxRetryMs` (never past periodMs). */
  readonly firstRetryMs: number;
  readonly maxRetryMs: number;
  /** False: rounds only until one succeeds (a retry of a part of some other round). Default true. */
  readonly repeat?: boolean;
  /** Told of each failed round and how long until the next one. */
  readonly onFailure: (error: unknown, retryInMs: number, failures: number) => void;
  /** setTimeout that does not hold the process open, by default (tests drive their own). */
  readonly schedule?: Schedule;
}

const unrefTimeout: Schedule = (run, ms) => {
  const timer = setTimeout(run, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * A background round of work, first at once, then every period; after a failure sooner, backing off. Nobody
 * waits for it: a peer that is not up yet (Hasura starting after the sidecar in its pod) delays nothing.
 */
export class RetryingPeriod {
  private cancel: (() => void) | undefined;
  private failures = 0;
  private stopped = false;
  private running: Promise<void> | undefined;

  constructor(private readonly options: RetryingPeriodOptions) {}

  /**
   * Starts the first round without waiting for it: now, or, after `failures` rounds failed elsewhere, as the retry
   * after them (backing off from there).
   */
  start(failures = 0): void {
    this.cancel?.();
    this.stopped = false;
    this.failures = failures;
    this.next(failures === 0 ? 0 : this.retryMs());
  }

  /** No further round starts; one under way finishes. */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
  }

  /** The round under way, if any (tests wait for it). */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private next(ms: number): void {
    if (this.stopped) return;
    const schedule = this.options.schedule ?? unrefTimeout;
    this.cancel = schedule(() => {
      this.cancel = undefined;
      this.running = this.round().finally(() => (this.running = undefined));
    }, ms);
  }

  private async round(): Promise<void> {
    try {
      await this.options.step();
      this.failures = 0;
      if (this.options.repeat ?? true) this.next(this.options.periodMs);
    } catch (error) {
      this.failures++;
      const retryInMs = this.retryMs();
      this.options.onFailure(error, retryInMs, this.failures);
      this.next(retryInMs);
    }
  }

  private retryMs(): number {
    const backoff = this.options.firstRetryMs * 2 ** Math.min(this.failures - 1, 20);
    return Math.min(backoff, this.options.maxRetryMs, this.options.periodMs);
  }
}
