import { GraphQLNonNull, GraphQLList, GraphQLObjectType, GraphQLSchema, GraphQLString } from "graphql";
import type { GraphQLFieldConfig, GraphQLFieldConfigArgumentMap, GraphQLFieldConfigMap } from "graphql";
import type { TableInfo } from "./catalog.js";
import { TableTypes, type StandInContext } from "./graphql-types.js";
import { SqlBuilder, type BoolExp, type SelectArgs } from "./sql-builder.js";
import { deleteSql, insertSql, primaryKeyExp, updateSql, type OnConflict } from "./sql-mutations.js";
import { SCALARS } from "./scalars.js";

type Row = Record<string, unknown>;
type Field = GraphQLFieldConfig<unknown, StandInContext>;
type Args = Record<string, unknown>;

/** Which root fields a schema offers: all of them (admin) or the selects a role is permitted. */
export interface SchemaOptions {
  readonly mutations: boolean;
  /** Keeps a query root field; absent keeps every one. */
  readonly allowQueryField?: (name: string) => boolean;
}

/** A schema like the one Hasura generates for `tables`, with resolvers that run SQL in the request's transaction. */
export function buildSchema(tables: ReadonlyMap<string, TableInfo>, options: SchemaOptions): GraphQLSchema {
  const types = new TableTypes(tables);
  const query: GraphQLFieldConfigMap<unknown, StandInContext> = {};
  const mutation: GraphQLFieldConfigMap<unknown, StandInContext> = {};
  for (const t of tables.values()) {
    Object.assign(query, queryFields(types, t));
    if (options.mutations) Object.assign(mutation, mutationFields(types, t));
  }
  const allow = options.allowQueryField ?? (() => true);
  for (const name of Object.keys(query)) if (!allow(name)) delete query[name];
  // Hasura gives a role without any select permission this placeholder, as GraphQL needs one field.
  if (Object.keys(query).length === 0) {
    query.no_queries_available = { type: new GraphQLNonNull(GraphQLString), resolve: () => "" };
  }
  return new GraphQLSchema({
    query: new GraphQLObjectType({ name: "query_root", fields: query }),
    mutation:
      Object.keys(mutation).length > 0
        ? new GraphQLObjectType({ name: "mutation_root", fields: mutation })
        : null,
  });
}

function run(ctx: StandInContext, build: (b: SqlBuilder) => string | undefined): Promise<Row[]> {
  const b = new SqlBuilder(ctx.tables);
  const sql = build(b);
  return sql === undefined ? Promise.resolve([]) : ctx.sql.query(sql, b.params);
}

function pkArgs(t: TableInfo): GraphQLFieldConfigArgumentMap {
  return Object.fromEntries(
    t.columns
      .filter((c) => t.primaryKey.includes(c.name))
      .map((c) => [c.name, { type: new GraphQLNonNull(SCALARS.get(c.scalar)!) }]),
  );
}

function queryFields(types: TableTypes, t: TableInfo): Record<string, Field> {
  const select = (args: SelectArgs, ctx: StandInContext) => run(ctx, (b) => b.select(t, args, b.alias()));
  const fields: Record<string, Field> = {
    [t.name]: {
      type: new GraphQLNonNull(new GraphQLList(new GraphQLNonNull(types.object(t)))),
      description: `fetch data from the table: "${t.name}"`,
      args: types.selectArgs(t),
      resolve: (_root, args: SelectArgs, ctx) => select(args, ctx),
    },
    [`${t.name}_aggregate`]: {
      type: new GraphQLNonNull(types.aggregate(t)),
      description: `fetch aggregated fields from the table: "${t.name}"`,
      args: types.selectArgs(t),
      resolve: (_root, args: SelectArgs, ctx) => select(args, ctx),
    },
  };
  if (t.primaryKey.length > 0) {
    fields[`${t.name}_by_pk`] = {
      type: types.object(t),
      description: `fetch data from the table: "${t.name}" using primary key columns`,
      args: pkArgs(t),
      resolve: async (_root, args: Args, ctx) =>
        (await select({ where: primaryKeyExp(t, args) }, ctx))[0] ?? null,
    };
  }
  return fields;
}

function mutationFields(types: TableTypes, t: TableInfo): Record<string, Field> {
  const response = (rows: Row[]) => ({ affected_rows: rows.length, returning: rows });
  const conflictArg: GraphQLFieldConfigArgumentMap =
    t.constraints.length > 0
      ? { on_conflict: { type: types.onConflict(t), description: "upsert condition" } }
      : {};
  const insertInput = new GraphQLNonNull(types.columnsInput(t, "insert_input"));
  const setInput = {
    type: types.columnsInput(t, "set_input"),
    description: "sets the columns of the filtered rows",
  };
  const fields: Record<string, Field> = {
    [`insert_${t.name}`]: {
      type: types.mutationResponse(t),
      description: `insert data into the table: "${t.name}"`,
      args: { objects: { type: new GraphQLNonNull(new GraphQLList(insertInput)) }, ...conflictArg },
      resolve: async (_root, args: { objects: Row[]; on_conflict?: OnConflict }, ctx) =>
        response(await run(ctx, (b) => insertSql(b, t, args.objects, args.on_conflict))),
    },
    [`insert_${t.name}_one`]: {
      type: types.object(t),
      description: `insert a single row into the table: "${t.name}"`,
      args: { object: { type: insertInput }, ...conflictArg },
      resolve: async (_root, args: { object: Row; on_conflict?: OnConflict }, ctx) =>
        (await run(ctx, (b) => insertSql(b, t, [args.object], args.on_conflict)))[0] ?? null,
    },
    [`update_${t.name}`]: {
      type: types.mutationResponse(t),
      description: `update data of the table: "${t.name}"`,
      args: { _set: setInput, where: { type: new GraphQLNonNull(types.boolExp(t)) } },
      resolve: async (_root, args: { _set?: Row; where: BoolExp }, ctx) =>
        response(await run(ctx, (b) => updateSql(b, t, args.where, args._set))),
    },
    [`delete_${t.name}`]: {
      type: types.mutationResponse(t),
      description: `delete data from the table: "${t.name}"`,
      args: { where: { type: new GraphQLNonNull(types.boolExp(t)) } },
      resolve: async (_root, args: { where: BoolExp }, ctx) =>
        response(await run(ctx, (b) => deleteSql(b, t, args.where))),
    },
  };
  if (t.primaryKey.length > 0) {
    fields[`update_${t.name}_by_pk`] = {
      type: types.object(t),
      description: `update single row of the table: "${t.name}"`,
      args: {
        _set: setInput,
        pk_columns: { type: new GraphQLNonNull(types.columnsInput(t, "pk_columns_input")) },
      },
      resolve: async (_root, args: { _set?: Row; pk_columns: Row }, ctx) =>
        (await run(ctx, (b) => updateSql(b, t, primaryKeyExp(t, args.pk_columns), args._set)))[0] ?? null,
    };
    fields[`delete_${t.name}_by_pk`] = {
      type: types.object(t),
      description: `delete single row from the table: "${t.name}"`,
      args: pkArgs(t),
      resolve: async (_root, args: Args, ctx) =>
        (await run(ctx, (b) => deleteSql(b, t, primaryKeyExp(t, args))))[0] ?? null,
    };
  }
  return fields;
}
