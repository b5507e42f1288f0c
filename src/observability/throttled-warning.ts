/** Where a throttled warning is written: pino's `warn` fits. */
export type WarningWriter = (fields: object, message: string) => void;

/**
 * A warning written at most once per interval, however often its cause recurs, so a misconfiguration that fails
 * every request shows in the log without flooding it. Each line counts the occurrences since the previous one.
 */
export class ThrottledWarning {
  private lastWrittenAt: number | undefined;
  private occurrences = 0;

  constructor(
    private readonly write: WarningWriter,
    private readonly event: string,
    private readonly message: string,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Counts one occurrence; writes the warning unless one was written within the interval. */
  record(): void {
    this.occurrences++;
    const at = this.now();
    if (this.lastWrittenAt !== undefined && at - this.lastWrittenAt < this.intervalMs) return;
    this.write({ event: this.event, occurrences: this.occurrences }, this.message);
    this.lastWrittenAt = at;
    this.occurrences = 0;
  }
}
