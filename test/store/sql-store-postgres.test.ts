import { afterAll, describe } from "vitest";
import { shouldRunPostgres } from "../support/databases.js";
import { sqlStoreHarness } from "./sql-harness.js";
import { describeStoreContract } from "./store-contract.js";

const run = await shouldRunPostgres();
const harness = sqlStoreHarness("postgres");
afterAll(() => harness.dropAll());

describe.skipIf(!run)("PostgreSQL server", () => {
  describeStoreContract("SqlStore on PostgreSQL", harness.openStore, harness.options);
});
