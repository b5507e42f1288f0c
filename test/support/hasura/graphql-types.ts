import {
  GraphQLBoolean,
  GraphQLEnumType,
  GraphQLInputObjectType,
  GraphQLInt,
  GraphQLList,
  GraphQLNonNull,
  GraphQLObjectType,
} from "graphql";
import type { GraphQLFieldConfigArgumentMap, GraphQLFieldConfigMap, GraphQLInputType } from "graphql";
import type { SqlQueryable } from "../../../src/store/sql-client.js";
import type { TableInfo } from "./catalog.js";
import { SCALARS } from "./scalars.js";
import { SqlBuilder, type SelectArgs } from "./sql-builder.js";

/** What every resolver gets: the transaction of the request and the tracked tables. */
export interface StandInContext {
  readonly sql: SqlQueryable;
  readonly tables: ReadonlyMap<string, TableInfo>;
}

type Row = Record<string, unknown>;
const list = <T extends GraphQLInputType>(t: T) => new GraphQLList(new GraphQLNonNull(t));
const rows = (t: GraphQLObjectType) => new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(t)));

/** The GraphQL types Hasura generates for tracked tables, built once per table and reused by name. */
export class TableTypes {
  private readonly cache = new Map<string, unknown>();
  private readonly orderBy = new GraphQLEnumType({
    name: "order_by",
    description: "column ordering options",
    values: Object.fromEntries(
      ["asc", "asc_nulls_first", "asc_nulls_last", "desc", "desc_nulls_first", "desc_nulls_last"].map((v) => [
        v,
        { value: v },
      ]),
    ),
  });

  constructor(private readonly tables: ReadonlyMap<string, TableInfo>) {}

  /** The table's object type: its columns and its relationships. */
  object(t: TableInfo): GraphQLObjectType {
    return this.memo(t.name, () => {
      return new GraphQLObjectType<Row, StandInContext>({
        name: t.name,
        description: `columns and relationships of "${t.name}"`,
        fields: () => {
          const fields: GraphQLFieldConfigMap<Row, StandInContext> = {};
          for (const c of t.columns) {
            const scalar = SCALARS.get(c.scalar)!;
            fields[c.name] = { type: c.nullable ? scalar : new GraphQLNonNull(scalar) };
          }
          for (const r of t.relationships) {
            const remote = this.tables.get(r.remoteTable)!;
            const select = (row: Row, args: SelectArgs, ctx: StandInContext) => {
              const b = new SqlBuilder(ctx.tables);
              const alias = b.alias();
              const join = r.mapping.map(([l, o]) => `${alias}."${o}" = ${b.param(row[l])}`).join(" AND ");
              return ctx.sql.query(b.select(remote, args, alias, join), b.params);
            };
            if (r.kind === "object") {
              fields[r.name] = {
                type: this.object(remote),
                resolve: async (row, _args, ctx) => (await select(row, {}, ctx))[0] ?? null,
              };
              continue;
            }
            fields[r.name] = {
              type: rows(this.object(remote)),
              args: this.selectArgs(remote),
              resolve: (row, args: SelectArgs, ctx) => select(row, args, ctx),
            };
            // Hasura adds `<relationship>_aggregate` beside each array relationship, with the same arguments.
            fields[`${r.name}_aggregate`] = {
              type: new GraphQLNonNull(this.aggregate(remote)),
              args: this.selectArgs(remote),
              resolve: (row, args: SelectArgs, ctx) => select(row, args, ctx),
            };
          }
          return fields;
        },
      });
    });
  }

  /** `where`, `order_by`, `distinct_on`, `limit`, `offset`: the arguments of every select. */
  selectArgs(t: TableInfo): GraphQLFieldConfigArgumentMap {
    return {
      distinct_on: { type: list(this.selectColumn(t)), description: "distinct select on columns" },
      limit: { type: GraphQLInt, description: "limit the number of rows returned" },
      offset: { type: GraphQLInt, description: "skip the first n rows. Use only with order_by" },
      order_by: { type: list(this.orderByInput(t)), description: "sort the rows by one or more columns" },
      where: { type: this.boolExp(t), description: "filter the rows returned" },
    };
  }

  /** `<table>_bool_exp`: column comparisons, relationships, `_and`, `_or`, `_not`. */
  boolExp(t: TableInfo): GraphQLInputObjectType {
    return this.memo(`${t.name}_bool_exp`, () => {
      const type: GraphQLInputObjectType = new GraphQLInputObjectType({
        name: `${t.name}_bool_exp`,
        description: `Boolean expression to filter rows from the table "${t.name}". All fields are combined with a logical 'AND'.`,
        fields: () => ({
          _and: { type: list(type) },
          _not: { type },
          _or: { type: list(type) },
          ...Object.fromEntries(t.columns.map((c) => [c.name, { type: this.comparison(c.scalar) }])),
          ...Object.fromEntries(
            t.relationships.map((r) => [r.name, { type: this.boolExp(this.tables.get(r.remoteTable)!) }]),
          ),
        }),
      });
      return type;
    });
  }

  /** `<table>_order_by`: one `order_by` direction per column. */
  orderByInput(t: TableInfo): GraphQLInputObjectType {
    return this.memo(`${t.name}_order_by`, () => {
      return new GraphQLInputObjectType({
        name: `${t.name}_order_by`,
        description: `Ordering options when selecting data from "${t.name}".`,
        fields: Object.fromEntries(t.columns.map((c) => [c.name, { type: this.orderBy }])),
      });
    });
  }

  /** `<table>_select_column`: the columns, for `distinct_on` and aggregate `count(columns:)`. */
  selectColumn(t: TableInfo): GraphQLEnumType {
    return this.columnEnum(`${t.name}_select_column`, t);
  }

  /** `<table>_update_column`: the columns an upsert may overwrite. */
  updateColumn(t: TableInfo): GraphQLEnumType {
    return this.columnEnum(`${t.name}_update_column`, t);
  }

  /** `<table>_constraint`: the primary key and unique constraints, for `on_conflict`. */
  constraint(t: TableInfo): GraphQLEnumType {
    return this.memo(`${t.name}_constraint`, () => {
      return new GraphQLEnumType({
        name: `${t.name}_constraint`,
        description: `unique or primary key constraints on table "${t.name}"`,
        values: Object.fromEntries(t.constraints.map((c) => [c.name, { value: c.name }])),
      });
    });
  }

  /** `<table>_on_conflict`: constraint, update_columns (default []) and where. */
  onConflict(t: TableInfo): GraphQLInputObjectType {
    return this.memo(`${t.name}_on_conflict`, () => {
      return new GraphQLInputObjectType({
        name: `${t.name}_on_conflict`,
        description: `on_conflict condition type for table "${t.name}"`,
        fields: {
          constraint: { type: new GraphQLNonNull(this.constraint(t)) },
          update_columns: { type: new GraphQLNonNull(list(this.updateColumn(t))), defaultValue: [] },
          where: { type: this.boolExp(t) },
        },
      });
    });
  }

  /** `<table>_insert_input`, `<table>_set_input` or `<table>_pk_columns_input`. */
  columnsInput(
    t: TableInfo,
    kind: "insert_input" | "set_input" | "pk_columns_input",
  ): GraphQLInputObjectType {
    return this.memo(`${t.name}_${kind}`, () => {
      const columns =
        kind === "pk_columns_input" ? t.columns.filter((c) => t.primaryKey.includes(c.name)) : t.columns;
      return new GraphQLInputObjectType({
        name: `${t.name}_${kind}`,
        fields: Object.fromEntries(
          columns.map((c) => {
            const scalar = SCALARS.get(c.scalar)!;
            return [c.name, { type: kind === "pk_columns_input" ? new GraphQLNonNull(scalar) : scalar }];
          }),
        ),
      });
    });
  }

  /** `<table>_mutation_response`: `affected_rows` and `returning`. */
  mutationResponse(t: TableInfo): GraphQLObjectType {
    return this.memo(`${t.name}_mutation_response`, () => {
      return new GraphQLObjectType({
        name: `${t.name}_mutation_response`,
        description: `response of any mutation on the table "${t.name}"`,
        fields: () => ({
          affected_rows: { type: new GraphQLNonNull(GraphQLInt) },
          returning: { type: rows(this.object(t)) },
        }),
      });
    });
  }

  /** `<table>_aggregate` with `aggregate { count }` and `nodes`. */
  aggregate(t: TableInfo): GraphQLObjectType {
    return this.memo(`${t.name}_aggregate`, () => {
      const fields = new GraphQLObjectType<Row[]>({
        name: `${t.name}_aggregate_fields`,
        fields: {
          count: {
            type: new GraphQLNonNull(GraphQLInt),
            args: { columns: { type: list(this.selectColumn(t)) }, distinct: { type: GraphQLBoolean } },
            resolve: (rows, args: { columns?: string[] | null; distinct?: boolean | null }) => {
              const columns = args.columns ?? [];
              if (columns.length === 0) return rows.length;
              const present = rows.filter((r) => columns.every((c) => r[c] !== null));
              if (!args.distinct) return present.length;
              return new Set(present.map((r) => JSON.stringify(columns.map((c) => String(r[c]))))).size;
            },
          },
        },
      });
      return new GraphQLObjectType<Row[]>({
        name: `${t.name}_aggregate`,
        fields: () => ({
          aggregate: { type: fields, resolve: (nodes) => nodes },
          nodes: { type: rows(this.object(t)), resolve: (nodes) => nodes },
        }),
      });
    });
  }

  private comparison(scalarName: string): GraphQLInputObjectType {
    return this.memo(`${scalarName}_comparison_exp`, () => {
      const scalar = SCALARS.get(scalarName)!;
      const ops = ["_eq", "_neq", "_gt", "_gte", "_lt", "_lte"];
      if (scalarName === "String") ops.push("_like", "_nlike", "_ilike", "_nilike");
      return new GraphQLInputObjectType({
        name: `${scalarName}_comparison_exp`,
        description: `Boolean expression to compare columns of type "${scalarName}". All fields are combined with logical 'AND'.`,
        fields: {
          ...Object.fromEntries(ops.map((op) => [op, { type: scalar }])),
          _in: { type: list(scalar) },
          _nin: { type: list(scalar) },
          _is_null: { type: GraphQLBoolean },
        },
      });
    });
  }

  private columnEnum(name: string, t: TableInfo): GraphQLEnumType {
    return this.memo(name, () => {
      return new GraphQLEnumType({
        name,
        values: Object.fromEntries(t.columns.map((c) => [c.name, { value: c.name }])),
      });
    });
  }

  private memo<T>(name: string, make: () => T): T {
    if (!this.cache.has(name)) this.cache.set(name, make());
    return this.cache.get(name) as T;
  }
}
