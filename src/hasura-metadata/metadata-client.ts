import { DeadlineExceededError, UnavailableError } from "../core/errors.js";
import { readBounded } from "../identity/http-body.js";

/** Where and how the metadata API is called. */
export interface MetadataClientOptions {
  /** Hasura's metadata endpoint, e.g. `http://127.0.0.1:8080/v1/metadata` (HASURA_METADATA_URL). */
  readonly url: string;
  /** GRAPHQL_ADMIN_SECRET, sent as X-Hasura-Admin-Secret; never logged. */
  readonly adminSecret: string;
  /** The largest answer read (default MAX_METADATA_ANSWER_BYTES). */
  readonly maxAnswerBytes?: number;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

/** The largest answer read: a big project's whole metadata (export_metadata) is a few megabytes. */
export const MAX_METADATA_ANSWER_BYTES = 64 * 1024 * 1024;

/**
 * A failed metadata call: Hasura's error code (`not-exists`, `already-exists`, …), `timeout`, or `unreachable` (no
 * usable answer: no connection, or a body that is not JSON or is over the bound).
 */
export class MetadataApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "MetadataApiError";
  }
}

/** One metadata API call: `{type, args}` posted as JSON, answered with JSON. */
export type MetadataCall = <T>(type: string, args: Record<string, unknown>, timeoutMs: number) => Promise<T>;

/** A client of Hasura's metadata API (plain JSON over POST: no GraphQL client is needed). */
export function createMetadataClient(options: MetadataClientOptions): MetadataCall {
  const post = options.fetch ?? fetch;
  const maxBytes = options.maxAnswerBytes ?? MAX_METADATA_ANSWER_BYTES;
  return async <T>(type: string, args: Record<string, unknown>, timeoutMs: number): Promise<T> => {
    let response: Response;
    let body: unknown;
    try {
      response = await post(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", "x-hasura-admin-secret": options.adminSecret },
        body: JSON.stringify({ type, args }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      body = JSON.parse(await readBounded(response, maxBytes));
    } catch (error) {
      throw unanswered(type, error);
    }
    if (response.ok) return body as T;
    const { code, error } = (body ?? {}) as { code?: unknown; error?: unknown };
    throw new MetadataApiError(
      typeof code === "string" ? code : "unexpected",
      `${type}: ${typeof error === "string" ? error.slice(0, 512) : `status ${response.status}`}`,
      response.status,
    );
  };
}

// No usable answer; the message names the variable to check, and why when the answer was refused.
function unanswered(type: string, error: unknown): MetadataApiError {
  const name = (error as { name?: unknown }).name;
  const timedOut = name === "TimeoutError" || name === "AbortError" || error instanceof DeadlineExceededError;
  const code = timedOut ? "timeout" : "unreachable";
  const why = error instanceof UnavailableError ? ` (${error.message})` : "";
  return new MetadataApiError(code, `${type}: ${code} at HASURA_METADATA_URL${why}`, undefined);
}
