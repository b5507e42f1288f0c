import { ClientError, GraphQLClient } from "graphql-request";
import { parse, type DocumentNode } from "graphql";
import { DEFAULTS } from "../config/defaults.js";
import type { CoreLogger } from "../core/logger-port.js";
import {
  HasuraRequestBug,
  toStoreError,
  type HasuraErrorEntry,
  type HasuraFailure,
} from "./hasura-errors.js";

/** Where and as whom the store talks to Hasura. */
export interface HasuraTransportOptions {
  /** The GraphQL endpoint (`GRAPHQL_URL`), e.g. `http://127.0.0.1:8080/v1/graphql`. */
  readonly url: string;
  /** `GRAPHQL_ADMIN_SECRET`; sent as X-Hasura-Admin-Secret, never logged. */
  readonly adminSecret: string;
  /** `GRAPHQL_ROLE`, sent as X-Hasura-Role; default `admin`. */
  readonly role?: string;
  /** Budget of one request in milliseconds; default 10 000. */
  readonly timeoutMs?: number;
  readonly logger?: CoreLogger;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

/** Sends prepared documents to Hasura and turns every failure into the core's errors. */
export interface HasuraTransport {
  /** Sends one document; `headers` are added to this request only (e.g. a session variable). */
  request<T>(
    operation: string,
    document: DocumentNode,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<T>;
}

/** Parses a document once, at store creation, so a syntax error shows at startup and never per request. */
export function prepareDocument(text: string): DocumentNode {
  return parse(text, { noLocation: true });
}

/**
 * A transport over graphql-request. Node's fetch keeps connections alive and reuses them across requests;
 * each request carries its own AbortSignal deadline.
 */
export function createHasuraTransport(options: HasuraTransportOptions): HasuraTransport {
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError("GRAPHQL_URL: not a valid URL");
  }
  const timeoutMs = options.timeoutMs ?? DEFAULTS.store.timeoutMs;
  const client = new GraphQLClient(url.toString(), {
    headers: {
      "X-Hasura-Admin-Secret": options.adminSecret,
      "X-Hasura-Role": options.role ?? DEFAULTS.store.graphqlRole,
    },
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return {
    async request<T>(
      operation: string,
      document: DocumentNode,
      variables: Record<string, unknown> = {},
      headers?: Record<string, string>,
    ) {
      try {
        return await client.request<T>({
          document,
          variables,
          signal: AbortSignal.timeout(timeoutMs),
          ...(headers ? { requestHeaders: headers } : {}),
        });
      } catch (error) {
        const mapped = toStoreError(operation, classify(error, isMutation(document)));
        if (mapped instanceof HasuraRequestBug) {
          options.logger?.error(
            { event: "hasura_request_bug", operation, err: mapped.message },
            mapped.message,
          );
          throw new Error(mapped.message, { cause: error });
        }
        throw mapped;
      }
    },
  };
}

function isMutation(document: DocumentNode): boolean {
  return document.definitions.some((d) => d.kind === "OperationDefinition" && d.operation === "mutation");
}

function classify(error: unknown, write: boolean): HasuraFailure {
  if (error instanceof ClientError) {
    const errors = (error.response as { errors?: HasuraErrorEntry[] }).errors;
    if (Array.isArray(errors) && errors.length > 0) return { kind: "graphql", errors };
    return { kind: "http", status: error.response.status };
  }
  const name = (error as { name?: unknown }).name;
  if (name === "TimeoutError" || name === "AbortError") return { kind: "timeout", cause: error, write };
  // A body that is not GraphQL JSON (a proxy's error page) says the server is not Hasura as we need it.
  return { kind: "unreachable", cause: error, write };
}
