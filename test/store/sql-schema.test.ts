import { readFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { migrationScript, migrationStatements, quoteSchema } from "../../src/store/sql-schema.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import { openTestDatabase, shouldRunPostgres, withAdmin, type TestDatabase } from "../support/databases.js";
import { borrowed } from "./sql-harness.js";

const DEPLOYED = new URL("../../deploy/sql/001_rolemapping.sql", import.meta.url);
const DEPLOYED_PINS = new URL("../../deploy/sql/002_group_pins.sql", import.meta.url);
const DEPLOYED_JOURNAL = new URL("../../deploy/sql/003_change_journal.sql", import.meta.url);
const DEPLOYED_COMBINED = new URL("../../deploy/sql/004_combined_roles.sql", import.meta.url);

// Hasura's on_conflict names these constraints; they must be PostgreSQL's default names.
const CONSTRAINTS = [
  "group_pins_pkey",
  "group_roles_pkey",
  "role_graphql_root_field_names_pkey",
  "rolemapping_changes_pkey",
  "rolemapping_combined_roles_pkey",
  "rolemapping_combined_sweep_pkey",
  "roles_component_id_key",
  "roles_pkey",
  "user_roles_pkey",
].sort();

const CONSTRAINTS_QUERY = `
  SELECT c.conname AS name, c.contype AS type, c.confdeltype AS on_delete
  FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
  WHERE n.nspname = $1 AND c.contype IN ('p', 'u', 'f') AND c.conname NOT LIKE 'rolemapping_version%'
  ORDER BY c.conname`;

describe("schema name", () => {
  it.each(["rolemapping", "public", "Role_Mapping2", "_x"])("accepts %s and quotes it", (name) => {
    expect(quoteSchema(name)).toBe(`"${name}"`);
  });

  it.each(["", "2roles", "role-mapping", 'x"; DROP TABLE roles; --', "a b", "a".repeat(64)])(
    "refuses %j naming the field",
    (name) => {
      expect(() => quoteSchema(name)).toThrow(InvalidArgumentError);
      expect(() => migrationStatements(name)).toThrow(/^schema: /);
    },
  );
});

describe("deploy/sql/001_rolemapping.sql, 002_group_pins.sql, 003_change_journal.sql, 004_combined_roles.sql", () => {
  it("are the migrations generated for schema rolemapping", async () => {
    expect(await readFile(DEPLOYED, "utf8")).toBe(migrationScript("rolemapping"));
    expect(await readFile(DEPLOYED_PINS, "utf8")).toBe(migrationScript("rolemapping", "002_group_pins.sql"));
    expect(await readFile(DEPLOYED_JOURNAL, "utf8")).toBe(
      migrationScript("rolemapping", "003_change_journal.sql"),
    );
    expect(await readFile(DEPLOYED_COMBINED, "utf8")).toBe(
      migrationScript("rolemapping", "004_combined_roles.sql"),
    );
  });
});

describe("migration on PGlite", () => {
  let db: TestDatabase | undefined;
  afterAll(() => db?.drop());

  it("creates the tables with the default constraint names and can run again", async () => {
    db = await openTestDatabase("pglite");
    await createSqlStore({ client: borrowed(db.client), schema: "rolemapping", migrate: true });
    await createSqlStore({ client: borrowed(db.client), schema: "rolemapping", migrate: true });
    const rows = await db.client.query(CONSTRAINTS_QUERY, ["rolemapping"]);
    const named = rows.filter((row) => row.type !== "f").map((row) => row.name);
    expect(named).toEqual(CONSTRAINTS);
  });

  it("leaves existing tables as they are (no cascade added) and the store still deletes whole roles", async () => {
    db ??= await openTestDatabase("pglite");
    // An older deployment: foreign keys without ON DELETE CASCADE, last_update nullable without default.
    for (const statement of [
      `CREATE SCHEMA legacy`,
      `CREATE TABLE legacy.roles (role_id varchar(255) PRIMARY KEY, component_id varchar(255) UNIQUE NOT NULL)`,
      `CREATE TABLE legacy.role_graphql_root_field_names (role_id varchar(255) REFERENCES legacy.roles,
         graphql_root_field_name varchar(255), PRIMARY KEY (role_id, graphql_root_field_name))`,
      `CREATE TABLE legacy.user_roles ("user" varchar(255), role_id varchar(255) REFERENCES legacy.roles,
         last_update timestamptz, PRIMARY KEY ("user", role_id))`,
      `CREATE TABLE legacy.group_roles ("group" varchar(255), role_id varchar(255) REFERENCES legacy.roles,
         last_update timestamptz, PRIMARY KEY ("group", role_id))`,
      `INSERT INTO legacy.roles VALUES ('old-role', 'old-component')`,
      `INSERT INTO legacy.user_roles VALUES ('user:old', 'old-role', now())`,
    ]) {
      await db.client.query(statement);
    }
    const before = await db.client.query(CONSTRAINTS_QUERY, ["legacy"]);

    const store = await createSqlStore({ client: borrowed(db.client), schema: "legacy", migrate: true });

    // The pin table, the journal and the combined-role ledger are new; the four tables keep what they had.
    const after = await db.client.query(CONSTRAINTS_QUERY, ["legacy"]);
    const added = [
      "group_pins_pkey",
      "rolemapping_changes_pkey",
      "rolemapping_combined_roles_pkey",
      "rolemapping_combined_sweep_pkey",
    ];
    expect(after.filter((row) => !added.includes(row.name as string))).toEqual(before);
    expect(before.filter((row) => row.type === "f").map((row) => row.on_delete)).toEqual(["a", "a", "a"]);
    expect(await store.listSubjectRoles("user:old")).toEqual(["old-role"]);
    await store.upsertRole({ roleId: "old-role", componentId: "old-component", rootFields: ["f"] });
    await store.setGroupRoles("old-role", ["group:g"]);
    const marker = await store.changeMarker();
    expect((await store.deleteRole("old-role")).deleted).toBe(true);
    expect(await store.changeMarker()).not.toBe(marker);
    expect(await store.loadAll()).toEqual({ roles: [], userGrants: [], groupGrants: [] });
  });
});

const runPostgres = await shouldRunPostgres();

describe.skipIf(!runPostgres)("migration on a PostgreSQL server", () => {
  let db: TestDatabase | undefined;
  afterAll(() => db?.drop());

  it("applies deploy/sql/001 to 004 twice, with the same catalog as the generated migration", async () => {
    db = await openTestDatabase("postgres");
    const scripts = [DEPLOYED, DEPLOYED_PINS, DEPLOYED_JOURNAL, DEPLOYED_COMBINED].map((url) =>
      readFile(url, "utf8"),
    );
    // psql-style: each whole file as one simple-protocol batch, twice.
    await withAdmin(async (admin) => {
      for (const script of [...scripts, ...scripts]) await admin.query(await script);
    }, db.url);
    await createSqlStore({ client: borrowed(db.client), schema: "generated", migrate: true });

    const deployed = await db.client.query(CONSTRAINTS_QUERY, ["rolemapping"]);
    expect(deployed.filter((row) => row.type !== "f").map((row) => row.name)).toEqual(CONSTRAINTS);
    expect(await db.client.query(CONSTRAINTS_QUERY, ["generated"])).toEqual(deployed);

    const shape = `SELECT table_name, column_name, data_type, character_maximum_length, is_nullable
      FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`;
    const columns = await db.client.query(shape, ["rolemapping"]);
    // The five tables and the marker (16 columns), the journal (5), the two checksum views (2 + 2) and the
    // combined-role ledger (4 + 3).
    expect(columns.length).toBe(32);
    expect(await db.client.query(shape, ["generated"])).toEqual(columns);

    const triggers = `SELECT c.relname AS table, t.tgname AS name FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND NOT t.tgisinternal ORDER BY 1`;
    const deployedTriggers = await db.client.query(triggers, ["rolemapping"]);
    // A change-marker trigger and four journal triggers on each of the five tables.
    expect(deployedTriggers).toHaveLength(25);
    expect(await db.client.query(triggers, ["generated"])).toEqual(deployedTriggers);
  });
});
