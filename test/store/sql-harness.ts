import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { createSqlStore, type SqlStore } from "../../src/store/sql-store.js";
import type { StoreContractOptions, StoreUnderTest } from "./store-contract.js";

/** A SqlStore on the emptied schema of a database shared by one test file. */
export interface OpenedSqlStore extends StoreUnderTest {
  readonly store: SqlStore;
  readonly schema: string;
  /** The shared database, for reaching behind the store. */
  readonly db: TestDatabase;
}

/** The contract's "behind the store" hooks for any store whose tables sit in `schema` of `db`. */
export function directSqlHooks<
  T extends StoreUnderTest & { readonly db: TestDatabase; readonly schema: string },
>(): StoreContractOptions<T> {
  return {
    async grantDirectly({ db, schema }, subject, roleId) {
      await db.client.query(`INSERT INTO "${schema}".user_roles ("user", role_id) VALUES ($1, $2)`, [
        subject,
        roleId,
      ]);
    },
    async backdateUserGrants({ db, schema }) {
      await db.client.query(
        `UPDATE "${schema}".user_roles SET last_update = last_update - interval '1 hour'`,
      );
    },
    async pruneJournal({ db, schema }) {
      await db.client.query(`DELETE FROM "${schema}".rolemapping_changes`);
      await db.client.query(`UPDATE "${schema}".rolemapping_version SET journal_floor = version`);
    },
    async truncateGroupGrants({ db, schema }) {
      await db.client.query(`TRUNCATE "${schema}".group_roles`);
    },
    async userGrantLastUpdate({ db, schema }, subject, roleId) {
      const rows = await db.client.query(
        `SELECT last_update FROM "${schema}".user_roles WHERE "user" = $1 AND role_id = $2`,
        [subject, roleId],
      );
      return rows[0]?.last_update as Date | undefined;
    },
  };
}

/** The client of a shared database, with close() left to the database's owner. */
export function borrowed(client: SqlClient): SqlClient {
  return { query: client.query, transaction: client.transaction, close: async () => undefined };
}

// Children before the roles they reference; the journal last, after the triggers wrote to it.
const EMPTIED = [
  "user_roles",
  "group_roles",
  "role_graphql_root_field_names",
  "roles",
  "group_pins",
  "rolemapping_combined_roles",
  "rolemapping_combined_sweep",
  "rolemapping_changes",
];

/**
 * Empties `schema` back to what its migration leaves: no rows, no journal, the marker and its floor at 0.
 * DELETE rather than TRUNCATE: on a PostgreSQL server TRUNCATE of these tables costs about as much as migrating.
 */
export async function resetSchema(client: SqlClient, schema: string): Promise<void> {
  const s = `"${schema}"`;
  await client.transaction(async (tx) => {
    for (const table of EMPTIED) await tx.query(`DELETE FROM ${s}.${table}`);
    await tx.query(`UPDATE ${s}.rolemapping_version SET version = 0, journal_floor = 0`);
  });
}

/**
 * One database and one migrated schema per test file (made on first use, dropped by `dropAll`), emptied before
 * each store is opened: opening PGlite, creating a database or migrating a schema per case dominated the run time.
 */
export function sqlStoreHarness(kind: "pglite" | "postgres") {
  const schema = "contract";
  let db: Promise<TestDatabase> | undefined;
  const database = () =>
    (db ??= openTestDatabase(kind).then(async (opened) => {
      await createSqlStore({ client: borrowed(opened.client), schema, migrate: true });
      return opened;
    }));

  const openStore = async (): Promise<OpenedSqlStore> => {
    const shared = await database();
    await resetSchema(shared.client, schema);
    const store = await createSqlStore({ client: borrowed(shared.client), schema });
    return { store, schema, db: shared, close: () => store.close() };
  };

  const options = directSqlHooks<OpenedSqlStore>();

  const dropAll = async (): Promise<void> => {
    if (db) await (await db).drop();
    db = undefined;
  };

  return { openStore, options, database, dropAll };
}
