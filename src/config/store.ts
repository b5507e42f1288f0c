import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

/** Where the role mappings live. */
export type StoreKind = "embedded" | "postgres" | "hasura";

/** The store of the role mappings: embedded PGlite, a PostgreSQL server, or Hasura's GraphQL API. */
export interface StoreConfig {
  readonly kind: StoreKind;
  readonly dataDir: string;
  readonly schema: string;
  readonly migrate: boolean;
  readonly databaseUrl: string | undefined;
  readonly graphql: { readonly url: string; readonly role: string; readonly adminSecret: string } | undefined;
  readonly timeoutMs: number;
}

const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Reads ROLEMAPPING_*, DATABASE_URL, GRAPHQL_* and STORE_TIMEOUT_MS; the store is chosen from what is set unless
 * ROLEMAPPING_STORE names it. Also gives GRAPHQL_URL as read, whatever the store: combined roles derive from it.
 */
export function readStore(env: EnvReader): { store: StoreConfig; graphqlUrl: string | undefined } {
  const databaseUrl = env.raw("DATABASE_URL");
  const graphqlUrl = env.url("GRAPHQL_URL");
  const kind = env.oneOf<StoreKind>(
    "ROLEMAPPING_STORE",
    ["embedded", "postgres", "hasura"],
    graphqlUrl ? "hasura" : databaseUrl ? "postgres" : "embedded",
  );
  const schema = env.string("ROLEMAPPING_TABLE_SCHEMA", DEFAULTS.store.schema);
  if (!SQL_IDENTIFIER.test(schema))
    env.fail("ROLEMAPPING_TABLE_SCHEMA", "expected a lower-case SQL identifier", schema, 0);
  if (kind === "postgres" && !databaseUrl)
    env.fail("DATABASE_URL", "required with ROLEMAPPING_STORE=postgres", undefined, 0);
  const adminSecret = env.raw("GRAPHQL_ADMIN_SECRET");
  if (kind === "hasura") {
    if (!graphqlUrl) env.fail("GRAPHQL_URL", "required with ROLEMAPPING_STORE=hasura", undefined, 0);
    if (!adminSecret)
      env.fail("GRAPHQL_ADMIN_SECRET", "required with ROLEMAPPING_STORE=hasura", undefined, 0);
  }
  const store: StoreConfig = {
    kind,
    dataDir: env.string("ROLEMAPPING_DATA_DIR", DEFAULTS.store.dataDir),
    schema,
    migrate: env.bool("ROLEMAPPING_MIGRATE", kind === "embedded"),
    databaseUrl,
    graphql:
      graphqlUrl && adminSecret
        ? { url: graphqlUrl, role: env.string("GRAPHQL_ROLE", DEFAULTS.store.graphqlRole), adminSecret }
        : undefined,
    timeoutMs: env.int("STORE_TIMEOUT_MS", DEFAULTS.store.timeoutMs, 100, 600_000),
  };
  return { store, graphqlUrl };
}
