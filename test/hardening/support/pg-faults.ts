import pg from "pg";
import { vi } from "vitest";

/** A second connection holding a lock in an open transaction, so the sidecar's statements stop behind it. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Opens a connection to `url`, begins a transaction and runs `statement` (e.g. `LOCK TABLE … `) in it. */
export async function holdLock(url: string, statement: string): Promise<HeldLock> {
  const blocker = new pg.Client({ connectionString: url });
  blocker.on("error", () => undefined);
  await blocker.connect();
  await blocker.query("BEGIN");
  await blocker.query(statement);
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      await blocker.query("ROLLBACK").catch(() => undefined);
      await blocker.end().catch(() => undefined);
    },
  };
}

/** Runs one statement on a short-lived connection to `url`. */
export async function query(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResultRow[]> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return (await client.query(text, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Waits until a backend of `database` is waiting on a lock, and returns its pid. */
export function waitForLockWaiter(url: string, database: string, timeoutMs = 20_000): Promise<number> {
  return vi.waitFor(
    async () => {
      const rows = await query(
        url,
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock' AND state = 'active'",
        [database],
      );
      if (!rows[0]) throw new Error("no statement started waiting on the lock");
      return rows[0].pid as number;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/** Connections open to `database`, the test's own included. */
export async function connectionCount(url: string, database: string): Promise<number> {
  const rows = await query(url, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [
    database,
  ]);
  return rows[0]?.n as number;
}
