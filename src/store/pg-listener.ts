import pg from "pg";
import type { CoreLogger } from "../core/identity.js";
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
  const retryMs = options.retryMs ?? 500;
  return (onChange) => {
    let client: pg.Client | undefined;
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let delay = retryMs;
    let down = false;

    const lost = (lostClient: pg.Client, error?: unknown): void => {
      if (lostClient !== client || stopped) return;
      client = undefined;
      lostClient.end().catch(() => undefined);
      if (!down) {
        down = true;
        options.logger?.warn(
          { event: "store_listen_lost", err: error instanceof Error ? error.message : undefined },
          "change notifications from PostgreSQL lost: polling until they are back",
        );
      }
      timer = setTimeout(() => void connect(), delay);
      timer.unref();
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    };

    const connect = async (): Promise<void> => {
      if (stopped) return;
      const next = new pg.Client({
        connectionString: options.connectionString,
        connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
        keepAlive: true,
        application_name: "rolemapper-listen",
      });
      client = next;
      next.on("notification", (message) => {
        if (message.channel === JOURNAL_CHANNEL && message.payload === options.schema) onChange();
      });
      next.on("error", (error) => lost(next, error));
      next.on("end", () => lost(next));
      try {
        await next.connect();
        await next.query(`LISTEN ${JOURNAL_CHANNEL}`);
      } catch (error) {
        return lost(next, error);
      }
      if (client !== next) return;
      delay = retryMs;
      if (down) {
        down = false;
        options.logger?.info(
          { event: "store_listen_recovered" },
          "change notifications from PostgreSQL back",
        );
      }
      onChange();
    };

    void connect();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      const last = client;
      client = undefined;
      await last?.end().catch(() => undefined);
    };
  };
}
