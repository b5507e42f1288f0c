import { HasuraError } from "./hasura-errors.js";
import { quoteIdent, type ColumnInfo, type TableInfo } from "./catalog.js";

/** A `…_bool_exp` value as graphql-js coerced it. */
export type BoolExp = Readonly<Record<string, unknown>>;

/** The arguments of a select root field or array relationship. */
export interface SelectArgs {
  readonly where?: BoolExp | null;
  readonly order_by?: readonly Readonly<Record<string, string>>[] | null;
  readonly distinct_on?: readonly string[] | null;
  readonly limit?: number | null;
  readonly offset?: number | null;
}

const DIRECTIONS: Readonly<Record<string, string>> = {
  asc: "ASC NULLS LAST",
  asc_nulls_first: "ASC NULLS FIRST",
  asc_nulls_last: "ASC NULLS LAST",
  desc: "DESC NULLS FIRST",
  desc_nulls_first: "DESC NULLS FIRST",
  desc_nulls_last: "DESC NULLS LAST",
};

const COMPARISONS: Readonly<Record<string, string>> = {
  _eq: "=",
  _neq: "<>",
  _gt: ">",
  _gte: ">=",
  _lt: "<",
  _lte: "<=",
  _like: "LIKE",
  _nlike: "NOT LIKE",
  _ilike: "ILIKE",
  _nilike: "NOT ILIKE",
};

/** Collects the parameters of one statement and hands out table aliases. */
export class SqlBuilder {
  readonly params: unknown[] = [];
  private aliases = 0;

  constructor(private readonly tables: ReadonlyMap<string, TableInfo>) {}

  /** A `$n` placeholder for `value`, cast to the column's type so Postgres never has to guess it. */
  param(value: unknown, column?: ColumnInfo, array = false): string {
    this.params.push(value);
    const cast = column ? `::${quoteIdent(column.udt)}${array ? "[]" : ""}` : "";
    return `$${this.params.length}${cast}`;
  }

  /** A fresh table alias. */
  alias(): string {
    return `_t${this.aliases++}`;
  }

  /** The table named `name` in the catalog. */
  table(name: string): TableInfo {
    const table = this.tables.get(name);
    if (!table) throw new Error(`unknown table ${name}`);
    return table;
  }

  /** A boolean SQL expression for a bool_exp on `table` aliased `alias`. */
  where(table: TableInfo, exp: BoolExp | null | undefined, alias: string): string {
    if (!exp) return "TRUE";
    const parts: string[] = [];
    for (const [key, value] of Object.entries(exp)) {
      if (value === undefined || value === null) continue;
      if (key === "_and") parts.push(this.joinAll(table, value as BoolExp[], alias, "AND", "TRUE"));
      else if (key === "_or") parts.push(this.joinAll(table, value as BoolExp[], alias, "OR", "FALSE"));
      else if (key === "_not") parts.push(`NOT (${this.where(table, value as BoolExp, alias)})`);
      else parts.push(this.fieldCondition(table, key, value as BoolExp, alias));
    }
    return parts.length === 0 ? "TRUE" : parts.map((p) => `(${p})`).join(" AND ");
  }

  /** `SELECT … FROM table` with where, distinct_on, order_by, limit and offset; `join` narrows it further. */
  select(table: TableInfo, args: SelectArgs, alias: string, join = "TRUE"): string {
    const distinct = args.distinct_on ?? [];
    const order = (args.order_by ?? []).flatMap((item) =>
      Object.entries(item).map(([column, direction]) => [column, direction] as const),
    );
    if (
      distinct.length > 0 &&
      !distinct.every((column, i) => order[i] === undefined || order[i][0] === column)
    ) {
      throw new HasuraError(
        "validation-failed",
        '"distinct_on" columns must match initial "order_by" columns',
      );
    }
    const orderSql = order.map(([c, d]) => `${alias}.${quoteIdent(c)} ${DIRECTIONS[d] ?? "ASC"}`);
    let sql = `SELECT ${distinct.length > 0 ? `DISTINCT ON (${distinct.map((c) => `${alias}.${quoteIdent(c)}`).join(", ")}) ` : ""}${alias}.*`;
    sql += ` FROM ${table.sqlName} AS ${alias} WHERE (${join}) AND (${this.where(table, args.where, alias)})`;
    if (orderSql.length > 0) sql += ` ORDER BY ${orderSql.join(", ")}`;
    if (args.limit !== undefined && args.limit !== null) sql += ` LIMIT ${this.param(args.limit)}::int`;
    if (args.offset !== undefined && args.offset !== null) sql += ` OFFSET ${this.param(args.offset)}::int`;
    return sql;
  }

  private joinAll(table: TableInfo, items: BoolExp[], alias: string, op: string, empty: string): string {
    if (items.length === 0) return empty;
    return items.map((item) => `(${this.where(table, item, alias)})`).join(` ${op} `);
  }

  private fieldCondition(table: TableInfo, key: string, exp: BoolExp, alias: string): string {
    const column = table.columns.find((c) => c.name === key);
    if (column) return this.comparison(column, exp, `${alias}.${quoteIdent(key)}`);
    const relationship = table.relationships.find((r) => r.name === key);
    if (!relationship) throw new HasuraError("validation-failed", `field '${key}' not found in bool_exp`);
    const remote = this.table(relationship.remoteTable);
    const remoteAlias = this.alias();
    const on = relationship.mapping
      .map(([local, other]) => `${remoteAlias}.${quoteIdent(other)} = ${alias}.${quoteIdent(local)}`)
      .join(" AND ");
    return `EXISTS (SELECT 1 FROM ${remote.sqlName} AS ${remoteAlias} WHERE ${on} AND (${this.where(remote, exp, remoteAlias)}))`;
  }

  private comparison(column: ColumnInfo, exp: BoolExp, ref: string): string {
    const parts: string[] = [];
    for (const [op, value] of Object.entries(exp)) {
      // Hasura's default treats a null operand as "no condition".
      if (value === undefined || value === null) continue;
      const sqlOp = COMPARISONS[op];
      if (sqlOp !== undefined) parts.push(`${ref} ${sqlOp} ${this.param(value, column)}`);
      else if (op === "_in") parts.push(`${ref} = ANY(${this.param(value, column, true)})`);
      else if (op === "_nin") parts.push(`NOT (${ref} = ANY(${this.param(value, column, true)}))`);
      else if (op === "_is_null") parts.push(value ? `${ref} IS NULL` : `${ref} IS NOT NULL`);
      else throw new HasuraError("validation-failed", `unsupported operator ${op}`);
    }
    return parts.length === 0 ? "TRUE" : parts.join(" AND ");
  }
}
