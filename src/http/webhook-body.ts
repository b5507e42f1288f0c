import { InvalidArgumentError } from "../core/errors.js";
import type { AuthorizeInput, GraphQLRequest } from "../core/authorizer.js";

/** Hasura's setting that, when false, leaves the `request` key out of the body. */
export const SEND_REQUEST_BODY_VARIABLE = "HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY";

/**
 * The body has no `request` key: Hasura runs with HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=false, so no query
 * can be checked. Answered with 400; the webhook also warns, since only a Hasura setting can fix it.
 */
export class MissingRequestError extends InvalidArgumentError {
  constructor() {
    super(
      "request",
      `missing: Hasura sends it only with ${SEND_REQUEST_BODY_VARIABLE}=true (set it on the Hasura container); ` +
        "null stands for a websocket connection_init",
    );
    this.name = "MissingRequestError";
  }
}

/** Bounds on the webhook body beyond its byte size. */
export interface WebhookBodyLimits {
  readonly maxHeaders: number;
  readonly maxBatch: number;
}

/**
 * Validates Hasura's POST body `{"headers": {...}, "request": {...} | [...] | null}` and turns it into the core's
 * input: header names lower-cased, each request's query and operation name checked.
 */
export function parseWebhookBody(body: unknown, limits: WebhookBodyLimits): AuthorizeInput {
  if (!isObject(body))
    throw new InvalidArgumentError("body", "expected a JSON object with headers and request");
  return {
    headers: parseHeaders(body.headers, limits.maxHeaders),
    request: parseRequest(body.request, limits.maxBatch),
  };
}

function parseHeaders(value: unknown, maxHeaders: number): Map<string, string> {
  if (!isObject(value))
    throw new InvalidArgumentError("headers", "expected an object of header names to strings");
  const names = Object.keys(value);
  if (names.length > maxHeaders)
    throw new InvalidArgumentError("headers", `at most ${maxHeaders} headers allowed`);
  const headers = new Map<string, string>();
  for (const name of names) {
    const headerValue = value[name];
    if (typeof headerValue !== "string")
      throw new InvalidArgumentError(`headers.${name}`, "expected a string");
    const key = name.toLowerCase();
    // Two spellings of one header with different values would make the token ambiguous: refuse, don't guess.
    const previous = headers.get(key);
    if (previous !== undefined && previous !== headerValue) {
      throw new InvalidArgumentError(`headers.${name}`, "given twice with different values");
    }
    headers.set(key, headerValue);
  }
  return headers;
}

function parseRequest(value: unknown, maxBatch: number): GraphQLRequest | GraphQLRequest[] | null {
  // Only an explicit null is a websocket connection_init (or a body Hasura could not parse itself); an absent key
  // means Hasura was told not to send the request, and choosing a role without seeing the query is refused.
  if (value === undefined) throw new MissingRequestError();
  if (value === null) return null;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new InvalidArgumentError("request", "an empty batch");
    if (value.length > maxBatch)
      throw new InvalidArgumentError("request", `a batch holds at most ${maxBatch} operations`);
    return value.map((item, index) => parseOne(item, `request[${index}]`));
  }
  return parseOne(value, "request");
}

function parseOne(value: unknown, field: string): GraphQLRequest {
  if (!isObject(value)) throw new InvalidArgumentError(field, "expected an object with a query");
  const { query, operationName } = value;
  if (typeof query !== "string") throw new InvalidArgumentError(`${field}.query`, "expected a string");
  if (operationName !== undefined && operationName !== null && typeof operationName !== "string") {
    throw new InvalidArgumentError(`${field}.operationName`, "expected a string or null");
  }
  return { query, operationName: operationName || undefined };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
