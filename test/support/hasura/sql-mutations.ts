import { HasuraError } from "./hasura-errors.js";
import { quoteIdent, type TableInfo } from "./catalog.js";
import type { BoolExp, SqlBuilder } from "./sql-builder.js";

/** An `…_on_conflict` value as graphql-js coerced it. */
export interface OnConflict {
  readonly constraint: string;
  readonly update_columns: readonly string[];
  readonly where?: BoolExp | null;
}

/**
 * `INSERT … RETURNING *` of `objects`, or undefined when there is nothing to insert. Columns no object names
 * are left out, so their defaults apply; `update_columns: []` means DO NOTHING, as in Hasura.
 */
export function insertSql(
  b: SqlBuilder,
  table: TableInfo,
  objects: readonly Readonly<Record<string, unknown>>[],
  onConflict: OnConflict | null | undefined,
): string | undefined {
  if (objects.length === 0) return undefined;
  const names = new Set<string>();
  for (const object of objects) for (const key of Object.keys(object)) names.add(key);
  if (names.size === 0) throw new HasuraError("validation-failed", "an insert object must name a column");
  const columns = [...names].map(quoteIdent).join(", ");
  const alias = b.alias();
  // One statement whatever the number of rows: the rows travel as one JSON parameter.
  let sql =
    `INSERT INTO ${table.sqlName} AS ${alias} (${columns}) ` +
    `SELECT ${columns} FROM jsonb_populate_recordset(NULL::${table.sqlName}, ${b.param(JSON.stringify(objects))}::jsonb)`;
  if (onConflict) {
    sql += ` ON CONFLICT ON CONSTRAINT ${quoteIdent(onConflict.constraint)}`;
    if (onConflict.update_columns.length === 0) sql += " DO NOTHING";
    else {
      const set = onConflict.update_columns.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`);
      sql += ` DO UPDATE SET ${set.join(", ")} WHERE ${b.where(table, onConflict.where, alias)}`;
    }
  }
  return `${sql} RETURNING *`;
}

/** `UPDATE … SET … WHERE … RETURNING *`; Hasura refuses an update that sets nothing. */
export function updateSql(
  b: SqlBuilder,
  table: TableInfo,
  where: BoolExp | null | undefined,
  set: Readonly<Record<string, unknown>> | null | undefined,
): string {
  const entries = Object.entries(set ?? {});
  if (entries.length === 0) {
    throw new HasuraError(
      "validation-failed",
      "at least any one of _set, _inc, _append, _prepend is expected",
    );
  }
  const alias = b.alias();
  const assignments = entries.map(([name, value]) => {
    const column = table.columns.find((c) => c.name === name);
    return `${quoteIdent(name)} = ${b.param(value, column)}`;
  });
  return `UPDATE ${table.sqlName} AS ${alias} SET ${assignments.join(", ")} WHERE ${b.where(table, where, alias)} RETURNING *`;
}

/** `DELETE … WHERE … RETURNING *`. */
export function deleteSql(b: SqlBuilder, table: TableInfo, where: BoolExp | null | undefined): string {
  const alias = b.alias();
  return `DELETE FROM ${table.sqlName} AS ${alias} WHERE ${b.where(table, where, alias)} RETURNING *`;
}

/** The bool_exp matching one row by its primary key. */
export function primaryKeyExp(table: TableInfo, values: Readonly<Record<string, unknown>>): BoolExp {
  return Object.fromEntries(table.primaryKey.map((c) => [c, { _eq: values[c] }]));
}
