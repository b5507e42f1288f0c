import type { SqlQueryable } from "../../../src/store/sql-client.js";

/** A column as Hasura sees it: its GraphQL scalar follows the Postgres type. */
export interface ColumnInfo {
  readonly name: string;
  /** Postgres' short type name (`varchar`, `int8`, `timestamptz`, …), used for casts. */
  readonly udt: string;
  readonly scalar: string;
  readonly nullable: boolean;
}

/** A primary-key or unique constraint: what `on_conflict` may name. */
export interface ConstraintInfo {
  readonly name: string;
  readonly columns: readonly string[];
}

/** A relationship tracked in metadata; `mapping` pairs a local column with the remote one. */
export interface RelationshipInfo {
  readonly name: string;
  readonly kind: "object" | "array";
  readonly remoteTable: string;
  readonly mapping: readonly (readonly [string, string])[];
}

/** A tracked table: `name` is its GraphQL name (prefix + table), `sqlName` the quoted `schema.table`. */
export interface TableInfo {
  readonly name: string;
  readonly sqlName: string;
  readonly columns: readonly ColumnInfo[];
  readonly primaryKey: readonly string[];
  readonly constraints: readonly ConstraintInfo[];
  relationships: RelationshipInfo[];
}

/** A table to track: where it lives and the GraphQL name Hasura gives it. */
export interface TrackedTable {
  readonly schema: string;
  readonly table: string;
  readonly name: string;
}

// The scalars Hasura uses for the Postgres types these tables have; anything else is served as String.
const SCALARS: Readonly<Record<string, string>> = {
  varchar: "String",
  text: "String",
  bpchar: "String",
  int2: "Int",
  int4: "Int",
  int8: "bigint",
  bool: "Boolean",
  float8: "Float",
  numeric: "numeric",
  timestamptz: "timestamptz",
};

/** Reads columns and keys of the tracked tables from the catalog, as Hasura does when tables are tracked. */
export async function loadCatalog(sql: SqlQueryable, tracked: readonly TrackedTable[]): Promise<TableInfo[]> {
  const tables: TableInfo[] = [];
  for (const t of tracked) {
    const columns = await sql.query(
      `SELECT column_name, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
      [t.schema, t.table],
    );
    if (columns.length === 0) throw new Error(`table ${t.schema}.${t.table} does not exist`);
    const constraints = await sql.query(
      `SELECT c.conname, c.contype, array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_catalog.pg_constraint c
       CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
       WHERE c.conrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass AND c.contype IN ('p', 'u')
       GROUP BY c.conname, c.contype ORDER BY c.conname`,
      [t.schema, t.table],
    );
    const primary = constraints.find((c) => c.contype === "p");
    tables.push({
      name: t.name,
      sqlName: `${quoteIdent(t.schema)}.${quoteIdent(t.table)}`,
      columns: columns.map((c) => ({
        name: String(c.column_name),
        udt: String(c.udt_name),
        scalar: SCALARS[String(c.udt_name)] ?? "String",
        nullable: c.is_nullable === "YES",
      })),
      primaryKey: primary ? asStrings(primary.columns) : [],
      constraints: constraints.map((c) => ({ name: String(c.conname), columns: asStrings(c.columns) })),
      relationships: [],
    });
  }
  return tables;
}

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

// array_agg arrives as a JS array from pg and PGlite alike, but as a literal "{a,b}" from some drivers.
function asStrings(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .replace(/^\{|\}$/g, "")
    .split(",");
}
