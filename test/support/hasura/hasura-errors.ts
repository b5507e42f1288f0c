/** One error in Hasura's shape: `{"message", "extensions": {"path", "code"}}`. */
export interface HasuraErrorBody {
  readonly message: string;
  readonly extensions: { readonly path: string; readonly code: string };
}

/** An error the stand-in answers with, carrying Hasura's code (`validation-failed`, `access-denied`, …). */
export class HasuraError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly path = "$",
    /** HTTP status of the answer: Hasura answers GraphQL errors with 200, a failing auth hook with 500. */
    readonly status = 200,
  ) {
    super(message);
    this.name = "HasuraError";
  }

  /** The error as Hasura puts it in `errors`. */
  toBody(): HasuraErrorBody {
    return { message: this.message, extensions: { path: this.path, code: this.code } };
  }
}

// Hasura's wording for the integrity-constraint class of SQLSTATEs (23xxx), prefixed to Postgres' message.
const CONSTRAINT_PREFIXES: Readonly<Record<string, string>> = {
  "23502": "Not-NULL violation. ",
  "23503": "Foreign key violation. ",
  "23505": "Uniqueness violation. ",
  "23514": "Check constraint violation. ",
  "23P01": "Exclusion violation. ",
};

/** A database error raised while executing `path`, translated the way Hasura reports it. */
export function fromDatabaseError(error: unknown, path: string): HasuraError {
  if (error instanceof HasuraError) return error;
  const sqlState = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof sqlState === "string") {
    const prefix = CONSTRAINT_PREFIXES[sqlState];
    if (prefix !== undefined) return new HasuraError("constraint-violation", prefix + message, path);
    if (sqlState.startsWith("23")) return new HasuraError("constraint-violation", message, path);
    if (sqlState.startsWith("22")) return new HasuraError("data-exception", message, path);
  }
  return new HasuraError("unexpected", "database query error", path);
}

/** graphql-js validation wording → Hasura's, for the messages clients and tests match on. */
export function fromValidationMessage(message: string): HasuraError {
  const unknownField = /^Cannot query field "([^"]+)" on type "([^"]+)"/.exec(message);
  if (unknownField) {
    return new HasuraError(
      "validation-failed",
      `field '${unknownField[1]}' not found in type: '${unknownField[2]}'`,
      `$.selectionSet.${unknownField[1]}`,
    );
  }
  if (message.startsWith("Schema is not configured for mutations")) {
    return new HasuraError("validation-failed", "no mutations exist");
  }
  return new HasuraError("validation-failed", message);
}
