import { openPristinePglite } from "./pglite-template.js";
import type { SqlQueryable } from "../../src/store/sql-client.js";
import { openTestDatabase, shouldRunPostgres } from "./databases.js";
import { startHasuraStandIn } from "./hasura/server.js";

/** A store several sidecars share: the env that points them at it, and SQL on its database. */
export interface SharedStore {
  readonly env: Record<string, string>;
  readonly sql: SqlQueryable;
  close(): Promise<void>;
}

/**
 * The stores replicas can share, for describe.each: PostgreSQL (undefined when no server is here) and
 * Hasura (the stand-in on an embedded database, guarded by `adminSecret`).
 */
export function sharedStores(adminSecret: string): [string, () => Promise<SharedStore | undefined>][] {
  return [
    [
      "PostgreSQL",
      async () => {
        if (!(await shouldRunPostgres())) return undefined;
        const db = await openTestDatabase("postgres");
        return {
          env: { DATABASE_URL: db.url ?? "", ROLEMAPPING_MIGRATE: "true" },
          sql: db.client,
          close: () => db.drop(),
        };
      },
    ],
    [
      "Hasura",
      async () => {
        const client = await openPristinePglite();
        const hasura = await startHasuraStandIn({ client, adminSecret });
        return {
          env: { GRAPHQL_URL: hasura.url, GRAPHQL_ADMIN_SECRET: adminSecret },
          sql: client,
          async close() {
            await hasura.close();
            await client.close();
          },
        };
      },
    ],
  ];
}
