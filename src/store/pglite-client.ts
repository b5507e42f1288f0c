import { PGlite } from "@electric-sql/pglite";
import type { SqlClient, SqlQueryable, SqlRow } from "./sql-client.js";

// The shared buffers live in PGlite's WebAssembly memory, which never shrinks. PostgreSQL's default of 128 MB
// made a sidecar loading 1,000,000 grants peak at about 600 MB; the mapping is read in one sequential pass, and
// 32 MB loads it as fast, peaking at about 450 MB.
const START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=32MB"];

/** An embedded PostgreSQL (PGlite) as a SqlClient; `dataDir` undefined keeps it in memory. */
export async function openPgliteClient(dataDir: string | undefined): Promise<SqlClient> {
  const db = await PGlite.create({
    ...(dataDir === undefined ? {} : { dataDir }),
    startParams: START_PARAMS,
  });
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
