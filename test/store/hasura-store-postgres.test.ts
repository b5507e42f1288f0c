import { afterAll, describe } from "vitest";
import { shouldRunPostgres } from "../support/databases.js";
import { hasuraStoreHarness } from "../support/hasura/store-harness.js";
import { describeStoreContract } from "./store-contract.js";

const run = await shouldRunPostgres();
const harness = hasuraStoreHarness("postgres");
afterAll(() => harness.dropAll());

describe.skipIf(!run)("PostgreSQL server", () => {
  describeStoreContract(
    "HasuraStore via the stand-in on PostgreSQL",
    () => harness.openStore(),
    harness.options,
  );
});
