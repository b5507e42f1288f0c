import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { pgChangeFeed } from "../../src/store/pg-listener.js";
import { createSqlStore, type SqlStore } from "../../src/store/sql-store.js";
import { openTestDatabase, shouldRunPostgres, withAdmin, type TestDatabase } from "../support/databases.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { borrowed } from "./sql-harness.js";

const run = await shouldRunPostgres();

describe.skipIf(!run)("change notifications from PostgreSQL", () => {
  let db: TestDatabase;
  let store: SqlStore;
  const logger = new RecordingLogger();
  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    store = await createSqlStore({
      client: borrowed(db.client),
      schema: "notified",
      migrate: true,
      changeFeed: pgChangeFeed({ connectionString: db.url!, schema: "notified", logger, retryMs: 50 }),
    });
    // Another schema of the same database: its writes notify on the same channel, for another payload.
    await createSqlStore({ client: borrowed(db.client), schema: "elsewhere", migrate: true });
  });
  afterAll(() => db?.drop());

  const listenerPid = async (): Promise<number | undefined> => {
    const rows = await db.client.query(
      `SELECT pid FROM pg_stat_activity WHERE application_name = 'rolemapper-listen' AND datname = current_database()`,
    );
    return rows[0]?.pid as number | undefined;
  };

  it("calls back once listening, on every committed change of its schema, and not for other schemas", async () => {
    let calls = 0;
    const stop = store.watchChanges!(() => calls++);
    try {
      await vi.waitFor(() => expect(calls).toBe(1));
      await db.client.query(`INSERT INTO notified.roles VALUES ('direct', 'c-direct')`);
      await vi.waitFor(() => expect(calls).toBe(2));
      await db.client.query(`INSERT INTO elsewhere.roles VALUES ('other', 'c-other')`);
      await store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
      await vi.waitFor(() => expect(calls).toBe(3));
      // A statement that changed nothing journals nothing and notifies nobody.
      await db.client.query(`DELETE FROM notified.user_roles WHERE role_id = 'none'`);
      await store.setUserRoles("r", ["user:a"]);
      await vi.waitFor(() => expect(calls).toBe(4));
    } finally {
      await stop();
    }
    expect(await listenerPid()).toBeUndefined();
  });

  it("connects again when its connection is lost, and calls back for what it may have missed", async () => {
    let calls = 0;
    const stop = store.watchChanges!(() => calls++);
    try {
      await vi.waitFor(() => expect(calls).toBe(1));
      const pid = await listenerPid();
      await withAdmin((admin) => admin.query("SELECT pg_terminate_backend($1)", [pid]), db.url);
      await vi.waitFor(() => expect(calls).toBe(2));
      expect(logger.events()).toEqual(["store_listen_lost", "store_listen_recovered"]);
      await store.upsertRole({ roleId: "after", componentId: "c-after", rootFields: [] });
      await vi.waitFor(() => expect(calls).toBe(3));
    } finally {
      await stop();
    }
  });
});
