import { createHasuraStore, type HasuraStore } from "../../../src/store/hasura-store.js";
import { directSqlHooks } from "../../store/sql-harness.js";
import type { StoreUnderTest } from "../../store/store-contract.js";
import { openTestDatabase, type TestDatabase } from "../databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "./server.js";

/** A Hasura store talking to its own stand-in, on its own schema of a database shared by one test file. */
export interface OpenedHasuraStore extends StoreUnderTest {
  readonly store: HasuraStore;
  readonly standIn: HasuraStandIn;
  readonly schema: string;
  readonly db: TestDatabase;
}

/** The admin secret the harness' stand-ins expect. */
export const TEST_ADMIN_SECRET = "test-admin-secret";

/** One database per test file, one schema and one stand-in per store (opening a database per case is slow). */
export function hasuraStoreHarness(kind: "pglite" | "postgres") {
  let db: Promise<TestDatabase> | undefined;
  let next = 0;
  const database = () => (db ??= openTestDatabase(kind));

  const openStore = async (overrides: { pageSize?: number } = {}): Promise<OpenedHasuraStore> => {
    const shared = await database();
    const schema = `hasura_${next++}`;
    const standIn = await startHasuraStandIn({
      client: shared.client,
      schema,
      adminSecret: TEST_ADMIN_SECRET,
    });
    const store = createHasuraStore({
      url: standIn.url,
      adminSecret: TEST_ADMIN_SECRET,
      schema,
      timeoutMs: 30_000,
      ...overrides,
    });
    return {
      store,
      standIn,
      schema,
      db: shared,
      async close() {
        await store.close();
        await standIn.close();
      },
    };
  };

  const options = directSqlHooks<OpenedHasuraStore>();

  const dropAll = async (): Promise<void> => {
    if (db) await (await db).drop();
    db = undefined;
  };

  return { openStore, options, database, dropAll };
}
