import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlClient, SqlQueryable } from "../../src/store/sql-client.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";

// Uses of several roles recorded through Hasura are one request, so one transaction: a request that fails midway
// leaves none of them recorded. A row left by a call that failed would tell the next use that the role was made
// already, and nobody would make it.
const SECRET = "ledger-atomic-secret";
const P = ["orders", "sales"];

/** Once armed, fails the database statement that follows the write that returned `name`'s row. */
function failingClient(inner: SqlClient) {
  let armed: string | undefined;
  let failNext = false;
  const watching = (db: SqlQueryable): SqlQueryable => ({
    async query(text, params) {
      if (failNext) {
        failNext = false;
        throw new Error("terminating connection due to administrator command");
      }
      const rows = await db.query(text, params);
      if (armed !== undefined && /^(INSERT|UPDATE)/.test(text) && rows.some((r) => r.role_name === armed)) {
        armed = undefined;
        failNext = true;
      }
      return rows;
    },
  });
  const client: SqlClient = {
    query: (text, params) => watching(inner).query(text, params),
    transaction: (work) => inner.transaction((tx) => work(watching(tx))),
    close: () => inner.close(),
  };
  return { client, failAfterWriting: (name: string) => (armed = name) };
}

describe("the combined-role ledger through Hasura, a request failing midway", () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  let gate: ReturnType<typeof failingClient>;

  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    gate = failingClient(db.client);
    hasura = await startHasuraStandIn({ client: gate.client, adminSecret: SECRET });
  });
  afterAll(async () => {
    await hasura?.close();
    await db?.drop();
  });

  it("records the uses of several roles all or none", async () => {
    const ledger = createHasuraStore({ url: hasura.url, adminSecret: SECRET }).combinedRoleLedger()!;
    await ledger.recordUses([{ name: "rm_b", parents: P }], 100);
    expect(await ledger.claimIdle(1_000, 2_000, 9_000, 10)).toEqual([{ name: "rm_b", parents: P }]);
    const uses = [
      { name: "rm_b", parents: P },
      { name: "rm_a", parents: P },
    ];

    gate.failAfterWriting("rm_a");
    await expect(ledger.recordUses(uses, 2_500)).rejects.toThrow();

    // rm_a got no row from the failed call: the next use is told it has to be made.
    expect(await ledger.recordUses(uses, 2_600)).toEqual({ dropping: ["rm_b"], added: ["rm_a"] });
  });
});
