import { InvalidArgumentError } from "../core/errors.js";
import { COMBINED_HEADER, combinedRoleStatements } from "./sql-combined-schema.js";
import { JOURNAL_HEADER, journalStatements } from "./sql-journal-schema.js";

// A plain identifier: letters, digits and underscores, not starting with a digit, at most 63 bytes (NAMEDATALEN-1).
const PLAIN_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The schema name checked as a plain SQL identifier and double-quoted, ready to splice into statements. */
export function quoteSchema(schema: string): string {
  if (!PLAIN_IDENTIFIER.test(schema)) {
    throw new InvalidArgumentError(
      "schema",
      `"${schema}" is not a plain SQL identifier (letters, digits, underscores; at most 63; not starting with a digit)`,
    );
  }
  // Quoted so the name is used exactly as configured (Hasura's root field names use it verbatim).
  return `"${schema}"`;
}

/**
 * The idempotent migration for one schema, one statement per entry (PGlite runs one statement per call).
 *
 * Foreign keys are created with ON DELETE CASCADE so that a role deleted outside the API (psql, the Hasura
 * console) takes its mappings with it. Tables of existing deployments are left as they are and may lack the
 * cascade, so the store never relies on it: deleteRole removes the children itself in the same transaction.
 *
 * The change marker is one row in `rolemapping_version`, bumped by statement-level triggers on the four tables
 * and the pin table: edits made outside the API move it too, and it becomes visible atomically with the edit's
 * commit. The migration files in one list: deploy/sql/001_rolemapping.sql, 002_group_pins.sql,
 * 003_change_journal.sql (sql-journal-schema.ts), then 004_combined_roles.sql (sql-combined-schema.ts).
 */
export function migrationStatements(schema: string): string[] {
  return [
    ...baseStatements(schema),
    ...groupPinStatements(schema),
    ...journalStatements(schema),
    ...combinedRoleStatements(schema),
  ];
}

// deploy/sql/001_rolemapping.sql: the four tables of the previous service, the change marker and its triggers.
function baseStatements(schema: string): string[] {
  const s = quoteSchema(schema);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${s}`,
    `CREATE TABLE IF NOT EXISTS ${s}.roles (
  role_id varchar(255) NOT NULL,
  component_id varchar(255) NOT NULL,
  CONSTRAINT roles_pkey PRIMARY KEY (role_id),
  CONSTRAINT roles_component_id_key UNIQUE (component_id)
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.role_graphql_root_field_names (
  role_id varchar(255) NOT NULL,
  graphql_root_field_name varchar(255) NOT NULL,
  CONSTRAINT role_graphql_root_field_names_pkey PRIMARY KEY (role_id, graphql_root_field_name),
  CONSTRAINT role_graphql_root_field_names_role_id_fkey FOREIGN KEY (role_id)
    REFERENCES ${s}.roles (role_id) ON DELETE CASCADE
)`,
    grantTableStatement(s, "user_roles", '"user"'),
    grantTableStatement(s, "group_roles", '"group"'),
    // The primary keys lead with the subject; grants are also looked up and replaced by role.
    `CREATE INDEX IF NOT EXISTS user_roles_role_id_idx ON ${s}.user_roles (role_id)`,
    `CREATE INDEX IF NOT EXISTS group_roles_role_id_idx ON ${s}.group_roles (role_id)`,
    `CREATE TABLE IF NOT EXISTS ${s}.rolemapping_version (
  singleton boolean NOT NULL DEFAULT true,
  version bigint NOT NULL,
  CONSTRAINT rolemapping_version_pkey PRIMARY KEY (singleton),
  CONSTRAINT rolemapping_version_singleton_check CHECK (singleton)
)`,
    `INSERT INTO ${s}.rolemapping_version (singleton, version) VALUES (true, 0) ON CONFLICT DO NOTHING`,
    // SECURITY DEFINER: whoever may edit the tables (e.g. Hasura's database user) can bump the marker even
    // without rights on the version table; the fixed search_path keeps the definer's rights from being abused.
    `CREATE OR REPLACE FUNCTION ${s}.rolemapping_bump_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
BEGIN
  UPDATE ${s}.rolemapping_version SET version = version + 1;
  RETURN NULL;
END
$body$`,
  ];
  for (const table of TABLES) statements.push(triggerStatement(s, table));
  return statements;
}

// deploy/sql/002_group_pins.sql: each granted group name bound to the Entra object id it had when granted. Not a
// child of roles: a pin belongs to the name, whichever roles grant it. Its trigger moves the change marker too,
// so a pin made by one replica reaches every other.
function groupPinStatements(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.group_pins (
  "group" varchar(255) NOT NULL,
  object_id varchar(255) NOT NULL,
  pinned_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT group_pins_pkey PRIMARY KEY ("group")
)`,
    triggerStatement(s, "group_pins"),
  ];
}

// Users and groups are granted roles alike: one table each, keyed by the subject and then the role.
function grantTableStatement(s: string, table: string, subject: string): string {
  return `CREATE TABLE IF NOT EXISTS ${s}.${table} (
  ${subject} varchar(255) NOT NULL,
  role_id varchar(255) NOT NULL,
  last_update timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT ${table}_pkey PRIMARY KEY (${subject}, role_id),
  CONSTRAINT ${table}_role_id_fkey FOREIGN KEY (role_id)
    REFERENCES ${s}.roles (role_id) ON DELETE CASCADE
)`;
}

/** The four mapping tables, in the order they are created. */
export const TABLES = ["roles", "role_graphql_root_field_names", "user_roles", "group_roles"] as const;

/** The migration files shipped in deploy/sql/, in the order they are applied. */
export const MIGRATION_FILES = [
  "001_rolemapping.sql",
  "002_group_pins.sql",
  "003_change_journal.sql",
  "004_combined_roles.sql",
] as const;

/** One of the migration files. */
export type MigrationFile = (typeof MIGRATION_FILES)[number];

// CREATE OR REPLACE TRIGGER needs PostgreSQL 14; the catalog check keeps older servers and re-runs working.
function triggerStatement(s: string, table: string): string {
  const name = `${table}_bump_version`;
  return `DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '${s}.${table}'::regclass AND tgname = '${name}'
  ) THEN
    CREATE TRIGGER ${name}
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${s}.${table}
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.rolemapping_bump_version();
  END IF;
END
$body$`;
}

/** One migration file as one SQL script, as shipped in deploy/sql/ (runnable with psql). */
export function migrationScript(schema: string, file: MigrationFile = "001_rolemapping.sql"): string {
  const [header, statements] = {
    "001_rolemapping.sql": () => [BASE_HEADER(schema), baseStatements(schema)] as const,
    "002_group_pins.sql": () => [PINS_HEADER(schema), groupPinStatements(schema)] as const,
    "003_change_journal.sql": () => [JOURNAL_HEADER(schema), journalStatements(schema)] as const,
    "004_combined_roles.sql": () => [COMBINED_HEADER(schema), combinedRoleStatements(schema)] as const,
  }[file]();
  return (
    header +
    `-- Generated from src/store/sql-schema.ts; keep them equal (test/store/sql-schema.test.ts checks).\n\n` +
    statements.join(";\n\n") +
    ";\n"
  );
}

const BASE_HEADER = (schema: string) =>
  `-- Role mapping tables, change marker and triggers for schema "${schema}".\n` +
  `-- Idempotent: safe to apply again. Existing tables keep their columns and constraints; only the\n` +
  `-- role_id indexes and the change-marker triggers are added to them.\n` +
  `-- New foreign keys cascade on delete; the service deletes a role's mappings itself, so older tables\n` +
  `-- without the cascade work as well. Statement triggers bump rolemapping_version on every change.\n`;

const PINS_HEADER = (schema: string) =>
  `-- Group pins for schema "${schema}": each granted group name bound to the Entra object id it had when\n` +
  `-- granted (GROUPS_PROVIDER=azure with AZURE_GROUP_NAME_ATTRIBUTE=displayName reads and writes them).\n` +
  `-- Apply after 001_rolemapping.sql, whose change-marker function its trigger calls. Idempotent.\n`;
