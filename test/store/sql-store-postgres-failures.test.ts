import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { DeadlineExceededError, UnavailableError } from "../../src/core/errors.js";
import { openPgClient } from "../../src/store/pg-client.js";
import { createSqlStore, type SqlStore } from "../../src/store/sql-store.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { borrowed } from "./sql-harness.js";

const run = await shouldRunPostgres();

const users = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `user:${prefix}-${i}`);

// A second connection holding a lock in an open transaction, so the store's write stops where we want it.
async function holdLock(url: string, statement: string): Promise<{ release(): Promise<void> }> {
  const blocker = new pg.Client({ connectionString: url });
  await blocker.connect();
  await blocker.query("BEGIN");
  await blocker.query(statement);
  return {
    async release() {
      await blocker.query("ROLLBACK");
      await blocker.end();
    },
  };
}

describe.skipIf(!run)("SqlStore on PostgreSQL when things go wrong", () => {
  let db: TestDatabase;
  let store: SqlStore;
  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    store = await createSqlStore({ client: borrowed(db.client), migrate: true });
  });
  afterAll(() => db?.drop());

  it("keeps the previous users when the connection is killed in the middle of a large set", async () => {
    await store.upsertRole({ roleId: "role-1", componentId: "c-1", rootFields: [] });
    const before = users("before", 10_000);
    await store.setUserRoles("role-1", before);

    // Holding the change-marker row stops the write right after its DELETE of the unlisted users.
    const blocker = await holdLock(db.url!, "SELECT * FROM rolemapping.rolemapping_version FOR UPDATE");
    const pending = store.setUserRoles("role-1", users("after", 10_000));
    const outcome = pending.then(
      () => undefined,
      (error: unknown) => error,
    );
    const pid = await waitForBlockedDelete(db);
    await db.client.query("SELECT pg_terminate_backend($1)", [pid]);

    expect(await outcome).toBeInstanceOf(UnavailableError);
    await blocker.release();
    const grants = await store.getRoleGrants("role-1");
    expect(grants?.users).toEqual([...before].sort());
    // The pool replaced the killed connection: the store goes on working.
    expect((await store.setUserRoles("role-1", ["user:x"])).grants.users).toEqual(["user:x"]);
  });

  it("reports a statement that outlives its timeout as deadline exceeded, writing nothing", async () => {
    await store.upsertRole({ roleId: "role-2", componentId: "c-2", rootFields: [] });
    const impatient = await createSqlStore({
      client: openPgClient({ connectionString: db.url!, statementTimeoutMs: 200 }),
    });
    const blocker = await holdLock(
      db.url!,
      "SELECT * FROM rolemapping.roles WHERE role_id = 'role-2' FOR UPDATE",
    );
    try {
      await expect(impatient.setUserRoles("role-2", ["user:a"])).rejects.toBeInstanceOf(
        DeadlineExceededError,
      );
    } finally {
      await blocker.release();
      await impatient.close();
    }
    expect((await store.getRoleGrants("role-2"))?.users).toEqual([]);
  });

  it("reports a server that does not answer as unavailable", async () => {
    const nowhere = await createSqlStore({
      client: openPgClient({
        connectionString: "postgres://postgres@127.0.0.1:1/none",
        connectTimeoutMs: 1_000,
      }),
    });
    try {
      await expect(nowhere.ping()).rejects.toBeInstanceOf(UnavailableError);
      await expect(nowhere.changeMarker()).rejects.toBeInstanceOf(UnavailableError);
    } finally {
      await nowhere.close();
    }
  });
});

function waitForBlockedDelete(db: TestDatabase): Promise<number> {
  return vi.waitFor(
    async () => {
      const rows = await db.client.query(
        `SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%DELETE FROM%user_roles%'`,
      );
      if (!rows[0]) throw new Error("the write never reached its DELETE");
      return rows[0].pid as number;
    },
    { timeout: 10_000, interval: 20 },
  );
}
