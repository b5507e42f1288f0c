import { PGlite } from "@electric-sql/pglite";
import type { SqlClient, SqlQueryable, SqlRow } from "./sql-client.js";

/** An embedded PostgreSQL (PGlite) as a SqlClient; `dataDir` undefined keeps it in memory. */
export async function openPgliteClient(dataDir: string | undefined): Promise<SqlClient> {
  const db = dataDir === undefined ? await PGlite.create() : await PGlite.create({ dataDir });
  return {
    async query(text, params) {
      const result = await db.query<SqlRow>(text, params ? [...params] : undefined);
      return result.rows;
    },
    transaction(work) {
      return db.transaction((tx) => {
        const queryable: SqlQueryable = {
          async query(text, params) {
            const result = await tx.query<SqlRow>(text, params ? [...params] : undefined);
            return result.rows;
          },
        };
        return work(queryable);
      });
    },
    async close() {
      await db.close();
    },
  };
}
