import { randomBytes } from "node:crypto";
import pg from "pg";
import { openPgClient } from "../../src/store/pg-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { openPristinePglite } from "./pglite-template.js";

/** Where PostgreSQL test databases are created (trust auth on the CI and dev machines). */
export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** A fresh, empty database for one test file or case. */
export interface TestDatabase {
  readonly client: SqlClient;
  /** The connection string (PostgreSQL only), for opening more connections to the same database. */
  readonly url?: string;
  /** Closes the client and, for PostgreSQL, drops the database. */
  drop(): Promise<void>;
}

/**
 * Opens a fresh PGlite (a copy of the run's pristine cluster instead of an initdb each, in memory outside a
 * vitest run), or a fresh PostgreSQL database `rolemapper_test_<random>`.
 */
export async function openTestDatabase(kind: "pglite" | "postgres"): Promise<TestDatabase> {
  if (kind === "pglite") {
    const client = await openPristinePglite();
    return { client, drop: () => client.close() };
  }
  const name = `rolemapper_test_${randomBytes(6).toString("hex")}`;
  await withAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = databaseUrl(name);
  const client = openPgClient({ connectionString: url, maxConnections: 10 });
  let dropped = false;
  return {
    client,
    url,
    async drop() {
      if (dropped) return;
      dropped = true;
      await client.close().catch(() => undefined);
      await withAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

/** True when a PostgreSQL server answers at TEST_DATABASE_URL. */
export async function postgresAvailable(): Promise<boolean> {
  try {
    await withAdmin((admin) => admin.query("SELECT 1"));
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether PostgreSQL suites should run: true when a server answers; false (the suite is skipped) when none
 * does, unless ROLEMAPPER_REQUIRE_POSTGRES=1 (CI), where a missing server is an error that fails the run.
 */
export async function shouldRunPostgres(): Promise<boolean> {
  if (await postgresAvailable()) return true;
  if (process.env.ROLEMAPPER_REQUIRE_POSTGRES === "1") {
    throw new Error(
      `ROLEMAPPER_REQUIRE_POSTGRES=1 but no PostgreSQL answers at ${redact(TEST_DATABASE_URL)}`,
    );
  }
  return false;
}

/** The URL of another database on the test server. */
export function databaseUrl(database: string): string {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `work` on a single short-lived connection to TEST_DATABASE_URL. */
export async function withAdmin<T>(
  work: (admin: pg.Client) => Promise<T>,
  url = TEST_DATABASE_URL,
): Promise<T> {
  const admin = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
  admin.on("error", () => undefined);
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}
