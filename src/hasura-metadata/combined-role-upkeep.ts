import type { CoreLogger } from "../core/logger-port.js";
import {
  CombinedRoleUpkeepFailed,
  type CombinedRoleEvent,
  type CombinedRoleRegistry,
} from "./combined-role-registry.js";
import { RetryingPeriod, type Schedule } from "./retrying-period.js";

/** When the registry's background rounds run. */
export interface CombinedRoleUpkeepOptions {
  /** Between rounds (SNAPSHOT_REFRESH_S). */
  readonly periodMs: number;
  /** The first retry after a failure, doubled after each further one up to `maxRetryMs` (never past the period). */
  readonly firstRetryMs: number;
  readonly maxRetryMs: number;
  readonly logger: CoreLogger;
  /** Counts a failed export (`failed`). */
  readonly onEvent?: (event: CombinedRoleEvent) => void;
  /** setTimeout that does not hold the process open, by default (tests drive their own). */
  readonly schedule?: Schedule;
}

/**
 * The registry's rounds in the background, first at once, then every period. A failed export makes the next round
 * come sooner, backing off. A round whose export succeeded but whose ledger failed keeps the period for the next
 * export: only the ledger's part is tried again sooner, and the roles learnt are used meanwhile.
 */
export class CombinedRoleUpkeep {
  private readonly rounds: RetryingPeriod;
  private readonly ledgerRetries: RetryingPeriod;
  // Exports failed in a row: said once they answer again.
  private failing = 0;

  constructor(
    private readonly registry: CombinedRoleRegistry,
    private readonly options: CombinedRoleUpkeepOptions,
  ) {
    const { periodMs, firstRetryMs, maxRetryMs, schedule } = options;
    const timing = { periodMs, firstRetryMs, maxRetryMs, ...(schedule ? { schedule } : {}) };
    this.rounds = new RetryingPeriod({
      ...timing,
      step: () => this.round(),
      onFailure: (error, retryInMs, failures) => this.exportFailed(error, retryInMs, failures),
    });
    // Each failed step was logged and counted by the registry as it failed.
    this.ledgerRetries = new RetryingPeriod({
      ...timing,
      repeat: false,
      step: () => registry.ledgerUpkeep(),
      onFailure: () => undefined,
    });
  }

  /** Starts the first round now, without waiting for it: Hasura may start after the sidecar. */
  start(): void {
    this.rounds.start();
  }

  /** No further round starts; one under way finishes. */
  stop(): void {
    this.rounds.stop();
    this.ledgerRetries.stop();
  }

  /** The rounds under way, if any (tests wait for them). */
  async settled(): Promise<void> {
    await Promise.all([this.rounds.settled(), this.ledgerRetries.settled()]);
  }

  private async round(): Promise<void> {
    // This round does the ledger's part too.
    this.ledgerRetries.stop();
    await this.ledgerRetries.settled();
    try {
      await this.registry.upkeep();
    } catch (error) {
      if (!(error instanceof CombinedRoleUpkeepFailed)) throw error;
      this.ledgerRetries.start(1);
    }
    if (this.failing > 0) {
      this.options.logger.info(
        { event: "combined_roles_learned", roles: this.registry.roles().size, failed_attempts: this.failing },
        "combined roles: learnt the existing ones from export_metadata",
      );
    }
    this.failing = 0;
  }

  private exportFailed(error: unknown, retryInMs: number, failures: number): void {
    this.failing = failures;
    this.options.onEvent?.("failed");
    this.options.logger.warn(
      {
        event: "combined_roles_refresh_failed",
        err: error instanceof Error ? error.message : String(error),
        retry_in_ms: retryInMs,
      },
      "combined roles: export_metadata failed; missing roles are created on demand meanwhile",
    );
  }
}
