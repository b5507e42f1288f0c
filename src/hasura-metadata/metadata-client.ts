/** Where and how the metadata API is called. */
export interface MetadataClientOptions {
  /** Hasura's metadata endpoint, e.g. `http://127.0.0.1:8080/v1/metadata` (HASURA_METADATA_URL). */
  readonly url: string;
  /** GRAPHQL_ADMIN_SECRET, sent as X-Hasura-Admin-Secret; never logged. */
  readonly adminSecret: string;
  /** Replaces the global fetch (tests). */
  readonly fetch?: typeof fetch;
}

/** A failed metadata call: Hasura's error code (`not-exists`, `already-exists`, …), or `unreachable`/`timeout`. */
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
      body = await response.json();
    } catch (error) {
      const name = (error as { name?: unknown }).name;
      const code = name === "TimeoutError" || name === "AbortError" ? "timeout" : "unreachable";
      throw new MetadataApiError(code, `${type}: ${code}`, undefined);
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
