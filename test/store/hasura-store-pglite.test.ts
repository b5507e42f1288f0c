import { afterAll } from "vitest";
import { hasuraStoreHarness } from "../support/hasura/store-harness.js";
import { describeStoreContract } from "./store-contract.js";

const harness = hasuraStoreHarness("pglite");
afterAll(() => harness.dropAll());

describeStoreContract("HasuraStore via the stand-in on PGlite", () => harness.openStore(), harness.options);
