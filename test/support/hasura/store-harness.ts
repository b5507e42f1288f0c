import { createHasuraStore, type HasuraStore } from "../../../src/store/hasura-store.js";
import { directSqlHooks, resetSchema } from "../../store/sql-harness.js";
import type { StoreUnderTest } from "../../store/store-contract.js";
import { openTestDatabase, type TestDatabase } from "../databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "./server.js";

/** A Hasura store talking to a stand-in on a schema of a database shared by one test file. */
export interface OpenedHasuraStore extends StoreUnderTest {
  readonly store: HasuraStore;
  readonly standIn: HasuraStandIn;
  readonly schema: string;
  readonly db: TestDatabase;
}

/** The admin secret the harness' stand-ins expect. */
export const TEST_ADMIN_SECRET = "test-admin-secret";

/** How a store of the harness is built. */
export interface HasuraStoreOverrides {
  readonly pageSize?: number;
}

/**
 * One database per test file, and on it one stand-in serving one schema, emptied before each store is opened
 * (opening a database, migrating a schema or starting a stand-in per case dominated the run time). A case that
 * alters the tables themselves opens a store on a schema and stand-in of its own instead (`openOwnStore`).
 */
export function hasuraStoreHarness(kind: "pglite" | "postgres") {
  let db: Promise<TestDatabase> | undefined;
  let shared: Promise<HasuraStandIn> | undefined;
  const started: HasuraStandIn[] = [];
  let next = 0;
  const database = () => (db ??= openTestDatabase(kind));

  const standInOn = async (schema: string): Promise<HasuraStandIn> => {
    const standIn = await startHasuraStandIn({
      client: (await database()).client,
      schema,
      adminSecret: TEST_ADMIN_SECRET,
    });
    started.push(standIn);
    return standIn;
  };

  const storeOn = (standIn: HasuraStandIn, schema: string, overrides: HasuraStoreOverrides) =>
    createHasuraStore({
      url: standIn.url,
      adminSecret: TEST_ADMIN_SECRET,
      schema,
      timeoutMs: 30_000,
      ...overrides,
    });

  /** A store on the file's shared schema and stand-in, the schema emptied first. */
  const openStore = async (overrides: HasuraStoreOverrides = {}): Promise<OpenedHasuraStore> => {
    const schema = "hasura_shared";
    const standIn = await (shared ??= standInOn(schema));
    const opened = await database();
    await resetSchema(opened.client, schema);
    const store = storeOn(standIn, schema, overrides);
    return { store, standIn, schema, db: opened, close: () => store.close() };
  };

  /** A store on a fresh schema and stand-in of its own, both gone when it is closed. */
  const openOwnStore = async (overrides: HasuraStoreOverrides = {}): Promise<OpenedHasuraStore> => {
    const schema = `hasura_${next++}`;
    const standIn = await standInOn(schema);
    const store = storeOn(standIn, schema, overrides);
    const close = async () => {
      await store.close();
      started.splice(started.indexOf(standIn), 1);
      await standIn.close();
    };
    return { store, standIn, schema, db: await database(), close };
  };

  const options = directSqlHooks<OpenedHasuraStore>();

  const dropAll = async (): Promise<void> => {
    for (const standIn of started.splice(0)) await standIn.close();
    shared = undefined;
    if (db) await (await db).drop();
    db = undefined;
  };

  return { openStore, openOwnStore, options, database, dropAll };
}
