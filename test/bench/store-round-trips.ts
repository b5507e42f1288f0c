import { openPgliteClient } from "../../src/store/pglite-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { createSqlStore } from "../../src/store/sql-store.js";

/** How one 10,000-user SetUserRoles reaches the SQL store. */
export interface StoreRoundTrips {
  /** Transactions opened (one is one round trip to the store's connection). */
  readonly transactions: number;
  /** Statements sent, inside and outside transactions. */
  readonly statements: number;
  readonly ms: number;
}

/** Counts the transactions and statements of a 10,000-user setUserRoles on an in-memory PGlite SqlStore. */
export async function measureStoreRoundTrips(): Promise<StoreRoundTrips> {
  const inner = await openPgliteClient(undefined);
  const counts = { transactions: 0, statements: 0 };
  const counting: SqlClient = {
    query(text, params) {
      counts.statements++;
      return inner.query(text, params);
    },
    transaction(work) {
      counts.transactions++;
      return inner.transaction((tx) =>
        work({
          query(text, params) {
            counts.statements++;
            return tx.query(text, params);
          },
        }),
      );
    },
    close: () => inner.close(),
  };
  const store = await createSqlStore({ client: counting, migrate: true });
  try {
    await store.upsertRole({ roleId: "bulk_role", componentId: "urn:bench:bulk", rootFields: ["bulk_f"] });
    const users = Array.from({ length: 10_000 }, (_, i) => `user:bulk-${i}_corp.com`);
    counts.transactions = 0;
    counts.statements = 0;
    const started = performance.now();
    await store.setUserRoles("bulk_role", users);
    return { ...counts, ms: Math.round(performance.now() - started) };
  } finally {
    await store.close();
  }
}
