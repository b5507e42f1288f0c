import pg from "pg";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CombinedRoleLedger } from "../../src/core/combined-roles.js";
import { openPgClient } from "../../src/store/pg-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";

// Two replicas writing the same ledger rows in SQL at once: each statement locks its rows in name order, so neither
// waits for a row the other holds while holding one it wants. A statement is one call, so the pause is inside it:
// a trigger makes the paused replica's statement wait, before it writes row `rm_b`, for a lock the test holds; the
// other replica is let in until it waits for a row lock; then the test lets the first go on.
const P = ["orders", "sales"];
const PAUSED = "ledger-locks-paused";
const PAUSE_LOCK = 7_351;
const runPostgres = await shouldRunPostgres();

const PAUSE_TRIGGER = [
  `CREATE FUNCTION rolemapping.pause_before_rm_b() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF current_setting('application_name') = '${PAUSED}' AND NEW.role_name = 'rm_b' THEN
       PERFORM pg_advisory_xact_lock_shared(${PAUSE_LOCK});
     END IF;
     RETURN NEW;
   END $$`,
  `CREATE TRIGGER pause_before_rm_b BEFORE INSERT ON rolemapping.rolemapping_combined_roles
   FOR EACH ROW EXECUTE FUNCTION rolemapping.pause_before_rm_b()`,
];

interface Race {
  /** Rows made first, in this order (their order in the table: a sequential scan meets them so). */
  readonly rows: readonly [string, number][];
  /** The paused replica's call: it has written the rows before rm_b when it pauses. */
  readonly first: (ledger: CombinedRoleLedger) => Promise<unknown>;
  readonly second: (ledger: CombinedRoleLedger) => Promise<unknown>;
}

const both = [
  { name: "rm_b", parents: P },
  { name: "rm_a", parents: P },
];

const races: [string, Race][] = [
  [
    "recordUses against adopt",
    {
      rows: [],
      first: (ledger) => ledger.recordUses(both, 2_500),
      second: (ledger) => ledger.adopt(both, 1_000),
    },
  ],
  [
    "recordUses against forget",
    {
      rows: [
        ["rm_b", 100],
        ["rm_a", 200],
      ],
      first: (ledger) => ledger.recordUses(both, 2_500),
      second: (ledger) => ledger.forget(["rm_a", "rm_b"]),
    },
  ],
];

describe.skipIf(!runPostgres)("the combined-role ledger in SQL, two replicas at once", () => {
  let db: TestDatabase;
  let pausedClient: SqlClient;
  let paused: CombinedRoleLedger;
  let other: CombinedRoleLedger;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    other = (await createSqlStore({ client: db.client, migrate: true })).combinedRoleLedger();
    for (const statement of PAUSE_TRIGGER) await db.client.query(statement);
    const url = new URL(db.url!);
    url.searchParams.set("application_name", PAUSED);
    pausedClient = openPgClient({ connectionString: url.toString() });
    paused = (await createSqlStore({ client: pausedClient })).combinedRoleLedger();
  });
  afterAll(async () => {
    await pausedClient?.close();
    await db?.drop();
  });
  // A new table file each time: rows made next lie in the order they are made.
  beforeEach(() => db.client.query("TRUNCATE rolemapping.rolemapping_combined_roles"));

  const waiting = async (event: string) => {
    const rows = await db.client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = $1`,
      [event],
    );
    return rows[0]!.n;
  };

  it.each(races)("never deadlocks: %s", async (_name, race) => {
    for (const [name, at] of race.rows) await other.recordUses([{ name, parents: P }], at);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query("SELECT pg_advisory_lock($1)", [PAUSE_LOCK]);
      const first = race.first(paused);
      await expect.poll(() => waiting("advisory")).toBe(1);
      const second = race.second(other);
      await expect.poll(() => waiting("transactionid")).toBe(1);
      await holder.query("SELECT pg_advisory_unlock($1)", [PAUSE_LOCK]);
      const settled = await Promise.allSettled([first, second]);
      expect(settled.filter((outcome) => outcome.status === "rejected")).toEqual([]);
    } finally {
      await holder.end();
    }
  });
});
