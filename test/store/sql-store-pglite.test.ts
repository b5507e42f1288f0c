import { afterAll } from "vitest";
import { sqlStoreHarness } from "./sql-harness.js";
import { describeStoreContract } from "./store-contract.js";

const harness = sqlStoreHarness("pglite");
afterAll(() => harness.dropAll());

describeStoreContract("SqlStore on PGlite", harness.openStore, harness.options);
