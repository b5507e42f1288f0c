import pg from "pg";
import type { CoreLogger } from "../core/logger-port.js";
import { JOURNAL_CHANNEL } from "./sql-journal-schema.js";
import type { ChangeFeed } from "./sql-store.js";

/** Where and how to listen for the journal's notifications. */
export interface PgChangeFeedOptions {
  readonly connectionString: string;
  /** The schema of the mapping tables: the notifications' payload. */
  readonly schema: string;
  readonly logger?: CoreLogger;
  /** The first wait before connecting again after a loss, doubled up to 30 s (default 500 ms). */
  readonly retryMs?: number;
  readonly connectTimeoutMs?: number;
}

const MAX_RETRY_MS = 30_000;

/**
 * Change notifications from PostgreSQL: LISTEN on a connection of its own (a pooled one would be handed to
 * queries), connected again whenever it is lost. The journal's triggers notify once per committing transaction
 * that changed something; while the connection is down the caller's polling goes on, and each (re)connection
 * calls `onChange` once, for the changes it may have missed meanwhile.
 */
export function pgChangeFeed(options: PgChangeFeedOptions): ChangeFeed {
  return (onChange) => {
    const listener = new NotificationListener(options, onChange);
    void listener.connect();
    return () => listener.stop();
  };
}

/** One LISTEN connection, connected again after each loss with a doubling wait. */
class NotificationListener {
  private client: pg.Client | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly retryMs: number;
  private delay: number;
  private down = false;

  constructor(
    private readonly options: PgChangeFeedOptions,
    private readonly onChange: () => void,
  ) {
    this.retryMs = options.retryMs ?? 500;
    this.delay = this.retryMs;
  }

  /** Connects and listens; a failure counts as a loss (retried later). */
  async connect(): Promise<void> {
    if (this.stopped) return;
    const next = new pg.Client({
      connectionString: this.options.connectionString,
      connectionTimeoutMillis: this.options.connectTimeoutMs ?? 5_000,
      keepAlive: true,
      application_name: "rolemapper-listen",
    });
    this.client = next;
    next.on("notification", (message) => {
      if (message.channel === JOURNAL_CHANNEL && message.payload === this.options.schema) this.onChange();
    });
    next.on("error", (error) => this.lost(next, error));
    next.on("end", () => this.lost(next));
    try {
      await next.connect();
      await next.query(`LISTEN ${JOURNAL_CHANNEL}`);
    } catch (error) {
      return this.lost(next, error);
    }
    if (this.client !== next) return;
    this.delay = this.retryMs;
    if (this.down) {
      this.down = false;
      this.options.logger?.info(
        { event: "store_listen_recovered" },
        "change notifications from PostgreSQL back",
      );
    }
    this.onChange();
  }

  /** Stops for good: no reconnection, the connection closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const last = this.client;
    this.client = undefined;
    await last?.end().catch(() => undefined);
  }

  // The current connection failed or ended: warn once per outage and connect again later.
  private lost(lostClient: pg.Client, error?: unknown): void {
    if (lostClient !== this.client || this.stopped) return;
    this.client = undefined;
    lostClient.end().catch(() => undefined);
    if (!this.down) {
      this.down = true;
      this.options.logger?.warn(
        { event: "store_listen_lost", err: error instanceof Error ? error.message : undefined },
        "change notifications from PostgreSQL lost: polling until they are back",
      );
    }
    this.timer = setTimeout(() => void this.connect(), this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, MAX_RETRY_MS);
  }
}
