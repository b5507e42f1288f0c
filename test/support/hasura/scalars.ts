import { GraphQLBoolean, GraphQLFloat, GraphQLInt, GraphQLScalarType, GraphQLString, Kind } from "graphql";
import type { GraphQLScalarType as Scalar, ValueNode } from "graphql";

// Hasura prints bigint and numeric as JSON numbers (unless told to stringify them) and timestamps as ISO text.
function toNumber(value: unknown): unknown {
  if (typeof value === "bigint" || typeof value === "string") {
    const n = Number(value);
    return Number.isSafeInteger(n) || !Number.isInteger(n) ? n : String(value);
  }
  return value;
}

function literal(ast: ValueNode): unknown {
  if (ast.kind === Kind.INT || ast.kind === Kind.FLOAT || ast.kind === Kind.STRING) return ast.value;
  return null;
}

function custom(name: string, serialize: (value: unknown) => unknown): Scalar {
  return new GraphQLScalarType({ name, serialize, parseValue: (v) => v, parseLiteral: literal });
}

/** The scalars by name: GraphQL's own and the Postgres ones Hasura adds. */
export const SCALARS: ReadonlyMap<string, Scalar> = new Map([
  ["String", GraphQLString],
  ["Int", GraphQLInt],
  ["Boolean", GraphQLBoolean],
  ["Float", GraphQLFloat],
  ["bigint", custom("bigint", toNumber)],
  ["numeric", custom("numeric", toNumber)],
  ["timestamptz", custom("timestamptz", (v) => (v instanceof Date ? v.toISOString() : String(v)))],
]);
