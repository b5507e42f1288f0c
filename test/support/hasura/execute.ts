import { execute, Kind, parse, validate } from "graphql";
import type { DocumentNode, ExecutionResult, GraphQLSchema, GraphQLError } from "graphql";
import type { SqlClient, SqlQueryable } from "../../../src/store/sql-client.js";
import type { Session } from "./auth.js";
import type { TableInfo } from "./catalog.js";
import { fromDatabaseError, fromValidationMessage, HasuraError } from "./hasura-errors.js";

/** The JSON body of `POST /v1/graphql`. */
export interface GraphQLRequestBody {
  readonly query: string;
  readonly variables?: Readonly<Record<string, unknown>> | null;
  readonly operationName?: string | null;
}

/** Checks the body has Hasura's request shape; Hasura reports a bad one as `parse-failed`. */
export function readRequestBody(value: unknown): GraphQLRequestBody {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HasuraError("parse-failed", "expected an object for the request body");
  }
  const body = value as Record<string, unknown>;
  if (typeof body.query !== "string") throw new HasuraError("parse-failed", 'key "query" not found');
  if (body.variables !== undefined && body.variables !== null && typeof body.variables !== "object") {
    throw new HasuraError("parse-failed", "variables: expected an object");
  }
  return body as unknown as GraphQLRequestBody;
}

/** Parses and validates the query against the caller's schema, failing as Hasura does. */
export function parseAndValidate(schema: GraphQLSchema, query: string): DocumentNode {
  let document: DocumentNode;
  try {
    document = parse(query);
  } catch (error) {
    throw new HasuraError(
      "validation-failed",
      `not a valid graphql query: ${(error as Error).message}`,
      "$.query",
    );
  }
  const errors = validate(schema, document);
  if (errors.length > 0) throw fromValidationMessage(errors[0]!.message);
  return document;
}

class Rollback extends Error {
  constructor(readonly hasuraError: HasuraError) {
    super(hasuraError.message);
  }
}

/**
 * Runs the request in one database transaction: every mutation field of it commits together, and any error
 * rolls all of them back (Hasura's behaviour on a Postgres source). A mutation's transaction carries the
 * session's variables in the `hasura.user` setting, where triggers read them, as Hasura sets it. Hasura reads
 * each query root field in one SQL statement (one snapshot); the stand-in resolves nested fields row by row, so
 * it reads in one REPEATABLE READ transaction to see the same. Answers data or Hasura's first error.
 */
export async function executeInTransaction(
  client: SqlClient,
  tables: ReadonlyMap<string, TableInfo>,
  schema: GraphQLSchema,
  document: DocumentNode,
  body: GraphQLRequestBody,
  session: Session,
): Promise<ExecutionResult["data"]> {
  try {
    return await client.transaction(async (tx) => {
      if (isMutation(document, body.operationName)) {
        const user = JSON.stringify({ ...session.variables, "x-hasura-role": session.role });
        await tx.query("SELECT set_config('hasura.user', $1, true)", [user]);
      } else {
        await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
      }
      const result = await execute({
        schema,
        document,
        variableValues: body.variables ?? undefined,
        operationName: body.operationName ?? undefined,
        contextValue: { sql: oneAtATime(tx), tables },
      });
      const first = result.errors?.[0];
      if (first) throw new Rollback(toHasuraError(first));
      return result.data;
    });
  } catch (error) {
    if (error instanceof Rollback) throw error.hasuraError;
    throw fromDatabaseError(error, "$");
  }
}

// The operation the request runs is a mutation (a document may hold several operations, one named).
function isMutation(document: DocumentNode, operationName: string | null | undefined): boolean {
  const operations = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION);
  const chosen = operations.find((d) => !operationName || d.name?.value === operationName) ?? operations[0];
  return chosen?.operation === "mutation";
}

// graphql-js resolves sibling query fields concurrently, but one transaction is one connection: queue them.
function oneAtATime(tx: SqlQueryable): SqlQueryable {
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query(text, params) {
      const result = tail.then(() => tx.query(text, params));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

// An error without a field path came before any resolver ran (variables, operation, operation type): Hasura
// reports those as validation failures.
function toHasuraError(error: GraphQLError): HasuraError {
  if (error.path === undefined) return fromValidationMessage(error.message);
  const path = `$.selectionSet.${error.path?.[0] ?? ""}`;
  return fromDatabaseError(error.originalError ?? error, path);
}
