import { migrationStatements } from "./sql-schema.js";
import type { SqlClient } from "./sql-client.js";
import { toStoreError } from "./sql-errors.js";

/**
 * Applies the idempotent migration for `schema` in one transaction. An advisory lock serialises replicas
 * starting together: concurrent CREATE … IF NOT EXISTS can otherwise still clash on the catalog.
 */
export async function migrateSchema(client: SqlClient, schema: string): Promise<void> {
  const statements = migrationStatements(schema);
  try {
    await client.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`rolemapper.migrate:${schema}`]);
      for (const statement of statements) await tx.query(statement);
    });
  } catch (error) {
    throw toStoreError(error);
  }
}
