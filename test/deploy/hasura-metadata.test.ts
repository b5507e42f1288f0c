import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { describe, expect, it } from "vitest";
import { copyPristineCluster } from "../support/pglite-template.js";
import { parse } from "yaml";
import { ROOT } from "./manifests.js";

interface TableRef {
  schema: string;
  name: string;
}

interface ObjectRelationship {
  name: string;
  using: { foreign_key_constraint_on: string };
}

interface ArrayRelationship {
  name: string;
  using: { foreign_key_constraint_on: { table: TableRef; column: string } };
}

interface TableEntry {
  table: TableRef;
  object_relationships?: ObjectRelationship[];
  array_relationships?: ArrayRelationship[];
}

interface BulkArg {
  type: string;
  args: {
    source: string;
    table: TableRef;
    name?: string;
    using?: ObjectRelationship["using"] | ArrayRelationship["using"];
  };
}

/** One relationship written the same way from either file: table.name -> using. */
type Relationship = string;

const HASURA_DIR = join(ROOT, "deploy", "hasura");
const SCHEMA_SQL = join(ROOT, "deploy", "sql", "001_rolemapping.sql");
const PINS_SQL = join(ROOT, "deploy", "sql", "002_group_pins.sql");
const JOURNAL_SQL = join(ROOT, "deploy", "sql", "003_change_journal.sql");
const COMBINED_SQL = join(ROOT, "deploy", "sql", "004_combined_roles.sql");
const TABLES = [
  "roles",
  "role_graphql_root_field_names",
  "user_roles",
  "group_roles",
  "group_pins",
  "rolemapping_version",
  "rolemapping_changes",
  "rolemapping_checksum",
  "rolemapping_combined_roles",
  "rolemapping_combined_sweep",
];
// The per-row hashes behind the checksum view: read by the database only, never tracked.
const UNTRACKED = ["rolemapping_row_hashes"];

const tablesYaml = parse(readFileSync(join(HASURA_DIR, "tables.yaml"), "utf8")) as TableEntry[];
const trackAll = JSON.parse(readFileSync(join(HASURA_DIR, "track-tables.json"), "utf8")) as {
  type: string;
  args: BulkArg[];
};
const trackVersion = JSON.parse(readFileSync(join(HASURA_DIR, "track-version-table.json"), "utf8")) as {
  type: string;
  args: BulkArg[];
};
const trackPins = JSON.parse(readFileSync(join(HASURA_DIR, "track-group-pins-table.json"), "utf8")) as {
  type: string;
  args: BulkArg[];
};
const trackJournal = JSON.parse(readFileSync(join(HASURA_DIR, "track-journal.json"), "utf8")) as {
  type: string;
  args: BulkArg[];
};
const trackCombined = JSON.parse(readFileSync(join(HASURA_DIR, "track-combined-roles.json"), "utf8")) as {
  type: string;
  args: BulkArg[];
};

function yamlRelationships(): Relationship[] {
  return tablesYaml.flatMap((entry) => [
    ...(entry.object_relationships ?? []).map(
      (r) => `${entry.table.name}.${r.name} -> ${JSON.stringify(r.using)}`,
    ),
    ...(entry.array_relationships ?? []).map(
      (r) => `${entry.table.name}.${r.name} -> ${JSON.stringify(r.using)}`,
    ),
  ]);
}

function bulkRelationships(): Relationship[] {
  return trackAll.args
    .filter((a) => a.type.endsWith("_relationship"))
    .map((a) => `${a.args.table.name}.${a.args.name} -> ${JSON.stringify(a.args.using)}`);
}

describe("Hasura metadata for the role mapping tables", () => {
  it("tracks the four tables, the pin, version, journal and ledger tables and the checksum view, in both forms", () => {
    expect(tablesYaml.map((e) => e.table)).toEqual(TABLES.map((name) => ({ schema: "rolemapping", name })));
    const tracked = trackAll.args.filter((a) => a.type === "pg_track_table").map((a) => a.args.table);
    expect(tracked).toEqual(TABLES.map((name) => ({ schema: "rolemapping", name })));
    expect(trackAll.type).toBe("bulk");
  });

  it("declares the same relationships in tables.yaml and in the bulk request", () => {
    expect(bulkRelationships().sort()).toEqual(yamlRelationships().sort());
    expect(yamlRelationships()).toHaveLength(6);
  });

  it("tracks the tables before relating them, so the bulk request applies in order", () => {
    const firstRelationship = trackAll.args.findIndex((a) => a.type.endsWith("_relationship"));
    const lastTrack = trackAll.args.map((a) => a.type).lastIndexOf("pg_track_table");
    expect(lastTrack).toBeLessThan(firstRelationship);
  });

  it("offers the version table alone for deployments whose four tables are tracked already", () => {
    expect(trackVersion.type).toBe("bulk");
    expect(trackVersion.args).toEqual([
      {
        type: "pg_track_table",
        args: { source: "default", table: { schema: "rolemapping", name: "rolemapping_version" } },
      },
    ]);
  });

  it("offers the pin table alone for deployments whose other tables are tracked already", () => {
    expect(trackPins).toEqual({
      type: "bulk",
      args: [
        {
          type: "pg_track_table",
          args: { source: "default", table: { schema: "rolemapping", name: "group_pins" } },
        },
      ],
    });
  });

  it("offers the journal and the checksum view alone for deployments whose other tables are tracked already", () => {
    const track = (name: string) => ({
      type: "pg_track_table",
      args: { source: "default", table: { schema: "rolemapping", name } },
    });
    expect(trackJournal).toEqual({
      type: "bulk",
      args: [track("rolemapping_changes"), track("rolemapping_checksum")],
    });
    expect(trackCombined).toEqual({
      type: "bulk",
      args: [track("rolemapping_combined_roles"), track("rolemapping_combined_sweep")],
    });
  });

  describe.skipIf(!existsSync(SCHEMA_SQL))(
    existsSync(SCHEMA_SQL)
      ? "against deploy/sql/001_rolemapping.sql"
      : "against deploy/sql/001_rolemapping.sql (skipped: the file does not exist yet)",
    () => {
      it("names tables that the schema creates and foreign keys that it declares", async () => {
        // A copy of an initialised cluster: initdb is not what this checks.
        const copy = await copyPristineCluster();
        const db = new PGlite(copy?.dataDir);
        try {
          await db.exec(readFileSync(SCHEMA_SQL, "utf8"));
          await db.exec(readFileSync(PINS_SQL, "utf8"));
          await db.exec(readFileSync(JOURNAL_SQL, "utf8"));
          await db.exec(readFileSync(COMBINED_SQL, "utf8"));
          const tables = await db.query<{ table_name: string }>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'rolemapping'",
          );
          expect(tables.rows.map((r) => r.table_name).sort()).toEqual([...TABLES, ...UNTRACKED].sort());
          const foreignKeys = await db.query<{ child: string; column_name: string; parent: string }>(
            `SELECT kcu.table_name AS child, kcu.column_name, ccu.table_name AS parent
               FROM information_schema.table_constraints tc
               JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)
               JOIN information_schema.constraint_column_usage ccu USING (constraint_schema, constraint_name)
              WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.constraint_schema = 'rolemapping'`,
          );
          const declared = foreignKeys.rows.map((r) => `${r.child}.${r.column_name} -> ${r.parent}`).sort();
          const used = tablesYaml
            .flatMap((e) =>
              (e.object_relationships ?? []).map(
                (r) => `${e.table.name}.${r.using.foreign_key_constraint_on}`,
              ),
            )
            .map((fk) => `${fk} -> roles`)
            .sort();
          expect(declared).toEqual(used);
        } finally {
          await db.close();
          await copy?.remove();
        }
      });
    },
  );
});
