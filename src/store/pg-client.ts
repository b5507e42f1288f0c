import pg from "pg";
import { DEFAULTS } from "../config/defaults.js";
import type { SqlClient, SqlRow } from "./sql-client.js";

/** Options of the PostgreSQL pool. */
export interface PgClientOptions {
  readonly connectionString: string;
  readonly maxConnections?: number;
  /** Per-statement timeout in milliseconds. */
  readonly statementTimeoutMs?: number;
  readonly connectTimeoutMs?: number;
}

/** A PostgreSQL server, through a `pg` pool, as a SqlClient. */
export function openPgClient(options: PgClientOptions): SqlClient {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    statement_timeout: options.statementTimeoutMs ?? DEFAULTS.store.timeoutMs,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process; the next query reports the failure.
  pool.on("error", () => undefined);
  return {
    async query(text, params) {
      const result = await pool.query<SqlRow>(text, params ? [...params] : undefined);
      return result.rows;
    },
    async transaction(work) {
      const client = await pool.connect();
      // A checked-out client whose connection dies emits "error"; unheard, it would crash the process. The
      // failure also rejects the running query, which is where it is reported.
      const ignore = (): undefined => undefined;
      client.on("error", ignore);
      const release = (destroy?: boolean): void => {
        client.off("error", ignore);
        client.release(destroy);
      };
      try {
        await client.query("BEGIN");
        const result = await work({
          async query(text, params) {
            return (await client.query<SqlRow>(text, params ? [...params] : undefined)).rows;
          },
        });
        await client.query("COMMIT");
        release();
        return result;
      } catch (error) {
        // A client whose connection failed (the rollback fails too) is destroyed, not returned to the pool.
        const rolledBack = await client.query("ROLLBACK").then(
          () => true,
          () => false,
        );
        release(!rolledBack);
        throw error;
      }
    },
    async close() {
      await pool.end();
    },
  };
}
