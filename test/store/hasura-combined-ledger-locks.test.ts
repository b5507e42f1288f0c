import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { CombinedRoleLedger } from "../../src/core/combined-roles.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import type { SqlClient, SqlQueryable } from "../../src/store/sql-client.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";

// Two replicas writing the same ledger rows through Hasura at once: each request locks its rows in name order, so
// neither waits for a row the other holds while holding one it wants (PostgreSQL only: PGlite runs one
// transaction at a time). One request is paused right after its first UPDATE that changed a row; the other is let
// in until it waits for a lock; then the first goes on.
const SECRET = "ledger-locks-secret";
const P = ["orders", "sales"];
const runPostgres = await shouldRunPostgres();

/** Pauses the first transaction, once armed, right after its first UPDATE that changed a row. */
function pausingClient(inner: SqlClient) {
  let armed: { reached: () => void; go: Promise<void> } | undefined;
  const pausing = (tx: SqlQueryable): SqlQueryable => ({
    async query(text, params) {
      const rows = await tx.query(text, params);
      const pause = armed;
      if (pause && text.startsWith("UPDATE") && rows.length > 0) {
        armed = undefined;
        pause.reached();
        await pause.go;
      }
      return rows;
    },
  });
  const client: SqlClient = {
    query: (text, params) => inner.query(text, params),
    transaction: (work) => inner.transaction((tx) => work(pausing(tx))),
    close: () => inner.close(),
  };
  const arm = () => {
    let reached!: () => void;
    let go!: () => void;
    const paused = new Promise<void>((resolve) => (reached = resolve));
    armed = { reached, go: new Promise<void>((resolve) => (go = resolve)) };
    return { paused, go };
  };
  return { client, arm };
}

interface Race {
  /** Rows made first, in this order (their order in the table: a sequential scan meets them so). */
  readonly rows: readonly [string, number][];
  readonly first: (ledger: CombinedRoleLedger) => Promise<unknown>;
  readonly second: (ledger: CombinedRoleLedger) => Promise<unknown>;
}

const races: [string, Race][] = [
  [
    "recordUses against recordUses",
    {
      rows: [
        ["rm_a", 5_000],
        ["rm_b", 100],
      ],
      first: (ledger) =>
        ledger.recordUses(
          [
            { name: "rm_b", parents: P },
            { name: "rm_a", parents: P },
          ],
          2_500,
        ),
      second: (ledger) =>
        ledger.recordUses(
          [
            { name: "rm_a", parents: P },
            { name: "rm_b", parents: P },
          ],
          9_000,
        ),
    },
  ],
  [
    "touchUses against touchUses",
    {
      rows: [
        ["rm_a", 5_000],
        ["rm_b", 100],
      ],
      first: (ledger) => ledger.touchUses(["rm_b", "rm_a"], 2_500),
      second: (ledger) => ledger.touchUses(["rm_a", "rm_b"], 9_000),
    },
  ],
  [
    "recordUses against adopt",
    {
      rows: [],
      first: (ledger) =>
        ledger.recordUses(
          [
            { name: "rm_b", parents: P },
            { name: "rm_a", parents: P },
          ],
          2_500,
        ),
      second: (ledger) =>
        ledger.adopt(
          [
            { name: "rm_b", parents: P },
            { name: "rm_a", parents: P },
          ],
          1_000,
        ),
    },
  ],
  [
    "touchUses against forget",
    {
      rows: [
        ["rm_b", 100],
        ["rm_a", 200],
      ],
      first: (ledger) => ledger.touchUses(["rm_b", "rm_a"], 2_500),
      second: (ledger) => ledger.forget(["rm_a", "rm_b"]),
    },
  ],
  [
    "touchUses against a sweep's claim",
    {
      rows: [
        ["rm_b", 100],
        ["rm_a", 200],
      ],
      first: (ledger) => ledger.touchUses(["rm_b", "rm_a"], 2_500),
      second: (ledger) => ledger.claimIdle(1_000, 1_000, 9_000, 10),
    },
  ],
];

describe.skipIf(!runPostgres)("the combined-role ledger through Hasura, two replicas at once", () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  let gate: ReturnType<typeof pausingClient>;
  const ledger = () => createHasuraStore({ url: hasura.url, adminSecret: SECRET }).combinedRoleLedger()!;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    gate = pausingClient(db.client);
    hasura = await startHasuraStandIn({ client: gate.client, adminSecret: SECRET });
  });
  afterAll(async () => {
    await hasura?.close();
    await db?.drop();
  });
  // A new table file each time: rows made next lie in the order they are made.
  beforeEach(() => db.client.query("TRUNCATE rolemapping.rolemapping_combined_roles"));

  const waitingForLocks = async () => {
    const rows = await db.client.query(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    return rows[0]!.n;
  };

  it.each(races)("never deadlocks: %s", async (_name, race) => {
    const [a, b] = [ledger(), ledger()];
    for (const [name, at] of race.rows) await a.recordUses([{ name, parents: P }], at);
    const { paused, go } = gate.arm();
    const first = race.first(a);
    await paused;
    const second = race.second(b);
    await expect.poll(waitingForLocks).toBe(1);
    go();
    const settled = await Promise.allSettled([first, second]);
    expect(settled.filter((outcome) => outcome.status === "rejected")).toEqual([]);
  });
});
