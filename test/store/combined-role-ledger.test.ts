import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CombinedRoleLedgerMissing, type CombinedRoleLedger } from "../../src/core/combined-roles.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import { startHasuraStandIn } from "../support/hasura/server.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { MemoryLedger } from "../support/memory-ledger.js";

// The ledger's contract, run against the SQL store (PGlite, PostgreSQL) and the in-memory ledger the registry's
// tests use, so that those tests hold for the real one.
const P = ["orders", "sales"];
const role = (name: string) => ({ name, parents: P });

interface Backend {
  ledger(): Promise<CombinedRoleLedger>;
  close(): Promise<void>;
}

// Emptied before each test: one database per backend, not one per test (each costs PGlite seconds to make).
const EMPTY_LEDGER = [
  "DELETE FROM rolemapping.rolemapping_combined_roles",
  "DELETE FROM rolemapping.rolemapping_combined_sweep",
];
const emptied = async (client: { query(text: string): Promise<unknown> }) => {
  for (const statement of EMPTY_LEDGER) await client.query(statement);
};

const sqlBackend = (kind: "pglite" | "postgres") => async (): Promise<Backend | undefined> => {
  if (kind === "postgres" && !(await shouldRunPostgres())) return undefined;
  const db = await openTestDatabase(kind);
  const ledger = (await createSqlStore({ client: db.client, migrate: true })).combinedRoleLedger();
  return {
    async ledger() {
      await emptied(db.client);
      return ledger;
    },
    close: () => db.drop(),
  };
};

// The ledger through a Hasura stand-in tracking the ledger's tables, on a PGlite of its own.
const hasuraBackend = async (): Promise<Backend> => {
  const client = await openPgliteClient(undefined);
  const hasura = await startHasuraStandIn({ client, adminSecret: "ledger-secret" });
  const ledger = createHasuraStore({ url: hasura.url, adminSecret: "ledger-secret" }).combinedRoleLedger();
  if (!ledger) throw new Error("the Hasura store has no ledger");
  return {
    async ledger() {
      await emptied(client);
      return ledger;
    },
    async close() {
      await hasura.close();
      await client.close();
    },
  };
};

const backends: [string, () => Promise<Backend | undefined>][] = [
  ["memory", async () => ({ ledger: async () => new MemoryLedger(), close: async () => undefined })],
  ["PGlite", sqlBackend("pglite")],
  ["PostgreSQL", sqlBackend("postgres")],
  ["Hasura", hasuraBackend],
];

describe.each(backends)("combined-role ledger on %s", (_name, open) => {
  let backend: Backend | undefined;
  beforeAll(async () => {
    backend = await open();
  });
  afterAll(() => backend?.close());

  it("records uses, telling which roles had no row, and moves the last use only forward", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    expect(await ledger.recordUses([role("rm_b"), role("rm_a")], 1_000)).toEqual({
      dropping: [],
      added: expect.arrayContaining(["rm_a", "rm_b"]),
    });
    expect(await ledger.recordUses([role("rm_a")], 500)).toEqual({ dropping: [], added: [] });
    // rm_a was last used at 1,000 (not 500): idle before 1,001, not before 1,000.
    expect(await ledger.claimIdle(1_000, 2_000, 9_000, 10)).toEqual([]);
    expect((await ledger.claimIdle(1_001, 2_000, 9_000, 10)).map((r) => r.name).sort()).toEqual([
      "rm_a",
      "rm_b",
    ]);
  });

  it("claims the longest idle first, at most `limit`, each once while held, and again once the hold is over", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_old")], 100);
    await ledger.recordUses([role("rm_older")], 50);
    await ledger.recordUses([role("rm_new")], 5_000);
    expect(await ledger.claimIdle(1_000, 2_000, 3_000, 1)).toEqual([role("rm_older")]);
    expect(await ledger.claimIdle(1_000, 2_000, 3_000, 5)).toEqual([role("rm_old")]);
    expect(await ledger.claimIdle(1_000, 2_500, 3_500, 5)).toEqual([]);
    // The holder went away: past its hold another replica may claim them.
    const again = await ledger.claimIdle(1_000, 3_000, 4_000, 5);
    expect(again.map((r) => r.name).sort()).toEqual(["rm_old", "rm_older"]);
  });

  it("records no use of a role being dropped, until its hold is over; a forgotten role gets a new row", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_x"), role("rm_y")], 100);
    await ledger.claimIdle(1_000, 2_000, 3_000, 10);
    expect(await ledger.recordUses([role("rm_x")], 2_500)).toEqual({ dropping: ["rm_x"], added: [] });
    expect(await ledger.recordUses([role("rm_y")], 3_000)).toEqual({ dropping: [], added: [] });
    // The use cancelled the claim: rm_y is no longer held, nor idle.
    expect(await ledger.claimIdle(2_000, 2_900, 9_000, 10)).toEqual([]);
    await ledger.forget(["rm_x"]);
    expect(await ledger.recordUses([role("rm_x")], 3_200)).toEqual({ dropping: [], added: ["rm_x"] });
  });

  it("touches only the rows that exist and no dropper holds, only forward, and tells which it touched", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_held"), role("rm_gone")], 100);
    await ledger.recordUses([role("rm_kept")], 1_500);
    await ledger.recordUses([role("rm_later")], 5_000);
    const claimed = await ledger.claimIdle(1_000, 2_000, 3_000, 10);
    expect(claimed.map((r) => r.name).sort()).toEqual(["rm_gone", "rm_held"]);
    await ledger.forget(["rm_gone"]);
    const touched = await ledger.touchUses(["rm_kept", "rm_held", "rm_gone", "rm_later"], 2_500);
    expect(touched.sort()).toEqual(["rm_kept", "rm_later"]);
    // rm_kept was last used at 2,500, rm_later still at 5,000; rm_held keeps its hold; rm_gone has no row.
    expect(await ledger.claimIdle(2_500, 2_600, 9_000, 10)).toEqual([]);
    expect((await ledger.claimIdle(2_501, 2_600, 9_000, 10)).map((r) => r.name)).toEqual(["rm_kept"]);
    expect((await ledger.claimIdle(5_001, 9_000, 9_500, 10)).map((r) => r.name).sort()).toEqual([
      "rm_held",
      "rm_kept",
      "rm_later",
    ]);
  });

  it("tells whether a claim still holds a role, and forgets a role only under the hold it was dropped under", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_a")], 100);
    await ledger.recordUses([role("rm_b")], 200);
    expect(await ledger.claimIdle(1_000, 2_000, 3_000, 10)).toHaveLength(2);
    expect([await ledger.holds("rm_a", 3_000), await ledger.holds("rm_a", 2_999)]).toEqual([true, false]);
    // The hold ended: another sweeper claimed rm_a, a use cancelled the claim of rm_b.
    expect(await ledger.claimIdle(1_000, 3_000, 5_000, 1)).toEqual([role("rm_a")]);
    expect(await ledger.recordUses([role("rm_b")], 3_500)).toEqual({ dropping: [], added: [] });
    const held = ["rm_a", "rm_b", "rm_none"].map((name) => ledger.holds(name, 3_000));
    expect([...(await Promise.all(held)), await ledger.holds("rm_a", 5_000)]).toEqual([
      false,
      false,
      false,
      true,
    ]);
    expect([await ledger.forgetHeld("rm_a", 3_000), await ledger.forgetHeld("rm_b", 3_000)]).toEqual([
      false,
      false,
    ]);
    expect(await ledger.forgetHeld("rm_a", 5_000)).toBe(true);
    expect(await ledger.recordUses([role("rm_a"), role("rm_b")], 6_000)).toEqual({
      dropping: [],
      added: ["rm_a"],
    });
  });

  it("releases the rows still held until `until`, leaving those another claim holds", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_a")], 100);
    await ledger.recordUses([role("rm_b")], 200);
    await ledger.recordUses([role("rm_c")], 300);
    expect(await ledger.claimIdle(1_000, 2_000, 3_000, 2)).toEqual([role("rm_a"), role("rm_b")]);
    expect(await ledger.claimIdle(1_000, 2_000, 4_000, 10)).toEqual([role("rm_c")]);
    await ledger.release(["rm_c", "rm_b", "rm_a", "rm_none"], 3_000);
    // A use of the released ones is recorded at once; rm_c is still being dropped.
    expect(await ledger.recordUses([role("rm_a"), role("rm_b"), role("rm_c")], 2_500)).toEqual({
      dropping: ["rm_c"],
      added: [],
    });
  });

  it("adopts only roles without a row", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    await ledger.recordUses([role("rm_used")], 5_000);
    await ledger.adopt([role("rm_used"), role("rm_found")], 100);
    expect((await ledger.claimIdle(1_000, 1_000, 2_000, 10)).map((r) => r.name)).toEqual(["rm_found"]);
  });

  it("lets one holder sweep at a time, the same holder again, another once the hold is over", async () => {
    if (!backend) return;
    const ledger = await backend.ledger();
    expect(await ledger.takeSweep("a", 1_000, 2_000)).toBe(true);
    expect(await ledger.takeSweep("b", 1_500, 2_500)).toBe(false);
    expect(await ledger.takeSweep("a", 1_600, 2_600)).toBe(true);
    expect(await ledger.takeSweep("b", 2_600, 3_600)).toBe(true);
  });
});

describe("combined-role ledger without its tables", () => {
  let db: TestDatabase;
  afterAll(() => db?.drop());

  it("says the ledger is missing (deploy/sql/004_combined_roles.sql not applied)", async () => {
    db = await openTestDatabase("pglite");
    const store = await createSqlStore({ client: db.client, migrate: true });
    await db.client.query("DROP TABLE rolemapping.rolemapping_combined_roles");
    await expect(store.combinedRoleLedger().recordUses([role("rm_a")], 1)).rejects.toBeInstanceOf(
      CombinedRoleLedgerMissing,
    );
  });
});
