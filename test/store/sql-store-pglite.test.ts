import { afterAll, describe, expect, it } from "vitest";
import { createSqlStore } from "../../src/store/sql-store.js";
import { borrowed, resetSchema, sqlStoreHarness } from "./sql-harness.js";
import { describeStoreContract } from "./store-contract.js";

const harness = sqlStoreHarness("pglite");
afterAll(() => harness.dropAll());

describeStoreContract("SqlStore on PGlite", harness.openStore, harness.options);

// The contract's stores share one schema, emptied before each case: the emptied schema must be a fresh one.
describe("the store contract's reset between cases", () => {
  it("leaves every table of a written schema as its migration does", async () => {
    const opened = await harness.openStore();
    const { store, schema, db } = opened;
    await store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
    await store.setUserRoles("r", ["user:a"]);
    await store.setGroupRoles("r", ["group:g"], [{ group: "group:g", objectId: "id-g" }]);
    const ledger = store.combinedRoleLedger();
    await ledger.recordUses([{ name: "rm_r", parents: ["r"] }], 1_000);
    expect(await ledger.takeSweep("sweeper", 1_000, 2_000)).toBe(true);
    await opened.close();
    const rows = (name: string, table: string) => db.client.query(`SELECT * FROM "${name}".${table}`);
    const tablesOf = async (name: string) =>
      (
        await db.client.query(
          `SELECT table_name FROM information_schema.tables
           WHERE table_schema = $1 AND table_type = 'BASE TABLE' ORDER BY 1`,
          [name],
        )
      ).map((row) => String(row.table_name));
    const tables = await tablesOf(schema);
    // Every table holds something to empty.
    for (const table of tables)
      expect({ table, rows: (await rows(schema, table)).length > 0 }).toEqual({ table, rows: true });

    await resetSchema(db.client, schema);
    await createSqlStore({ client: borrowed(db.client), schema: "migrated", migrate: true });
    expect(tables).toEqual(await tablesOf("migrated"));
    for (const table of tables) {
      expect({ table, rows: await rows(schema, table) }).toEqual({
        table,
        rows: await rows("migrated", table),
      });
    }
  });
});
