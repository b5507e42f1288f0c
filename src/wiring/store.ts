import { mkdirSync } from "node:fs";
import type { Config } from "../config/index.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";
import type { RoleMappingStore } from "../core/store-port.js";

/**
 * Opens the store the configuration names: embedded PGlite, a PostgreSQL server, or Hasura. Each adapter and its
 * driver is imported only when chosen: a sidecar on PostgreSQL never loads PGlite's WebAssembly PostgreSQL or the
 * GraphQL client, which would otherwise cost start-up time and resident memory in every pod.
 */
export async function openStore(config: Config["store"], logger: CoreLogger): Promise<RoleMappingStore> {
  switch (config.kind) {
    case "embedded": {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      const [{ openPgliteClient }, { createSqlStore }] = await Promise.all([
        import("../store/pglite-client.js"),
        import("../store/sql-store.js"),
      ]);
      const client = await openPgliteClient(`${config.dataDir}/pgdata`);
      return createSqlStore({ client, schema: config.schema, migrate: config.migrate });
    }
    case "postgres": {
      const [{ openPgClient }, { createSqlStore }, { pgChangeFeed }] = await Promise.all([
        import("../store/pg-client.js"),
        import("../store/sql-store.js"),
        import("../store/pg-listener.js"),
      ]);
      const connectionString = config.databaseUrl ?? "";
      const client = openPgClient({ connectionString, statementTimeoutMs: config.timeoutMs });
      // Opened only if the snapshot listens (SNAPSHOT_LISTEN), on a connection of its own.
      const changeFeed = pgChangeFeed({ connectionString, schema: config.schema, logger });
      return createSqlStore({ client, schema: config.schema, migrate: config.migrate, changeFeed });
    }
    case "hasura": {
      const graphql = config.graphql;
      // readStore (src/config/) guarantees GRAPHQL_URL and the admin secret with this store; checked again rather than cast.
      if (!graphql) throw new InvalidArgumentError("GRAPHQL_URL", "required with ROLEMAPPING_STORE=hasura");
      const { createHasuraStore } = await import("../store/hasura-store.js");
      return createHasuraStore({
        url: graphql.url,
        adminSecret: graphql.adminSecret,
        role: graphql.role,
        schema: config.schema,
        timeoutMs: config.timeoutMs,
        logger,
      });
    }
  }
}
