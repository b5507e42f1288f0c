import { DEFAULTS } from "../config/defaults.js";
import { InvalidArgumentError, UnavailableError } from "../core/errors.js";
import { DEFAULT_RETRY, fetchWithRetry } from "./http-retry.js";
import type { RetryPolicy } from "./http-retry.js";
import { readBounded } from "./http-body.js";

/** An app registration's client credentials (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_SCOPES). */
export interface AzureClientCredentials {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Default ["https://graph.microsoft.com/.default"]. */
  readonly scopes?: readonly string[];
  /** AZURE_AUTHORITY_HOST, default https://login.microsoftonline.com. */
  readonly authorityHost?: string;
}

/** Client credentials plus caching and time limits. */
export interface AzureTokenSourceOptions extends AzureClientCredentials {
  /** Refresh this long before expiry (default 5 minutes, at most half the token's lifetime). */
  readonly refreshMarginMs?: number;
  /** Time budget of one token request, retries included (default 10 s). */
  readonly budgetMs?: number;
  readonly retry?: Partial<RetryPolicy>;
}

/** Hands out a bearer token for outbound calls. */
export interface AccessTokenSource {
  /** A valid token; concurrent callers share one refresh. */
  token(): Promise<string>;
  /** Drops `token` after the resource server refused it (401), so the next call fetches a new one. */
  invalidate(token: string): void;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAt: number;
  readonly expiresAt: number;
}

/** App-only tokens by the OAuth 2.0 client credentials grant against the Microsoft identity platform. */
export function createClientCredentialsTokenSource(options: AzureTokenSourceOptions): AccessTokenSource {
  const request = tokenRequest(options);
  const { policy } = request;
  let cached: CachedToken | undefined;
  let pending: Promise<string> | undefined;

  const refresh = (): Promise<string> => {
    pending ??= requestToken(request)
      .then((fresh) => {
        cached = fresh;
        return fresh.value;
      })
      .catch((error: unknown) => {
        // A failed early refresh still leaves a token that is valid for a while.
        if (cached && policy.now() < cached.expiresAt) return cached.value;
        throw error;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return {
    token() {
      if (cached && policy.now() < cached.refreshAt) return Promise.resolve(cached.value);
      return refresh();
    },
    invalidate(token) {
      if (cached?.value === token) cached = undefined;
    },
  };
}

/** One token request, its defaults filled in: where, with which form, within what time and retries. */
interface TokenRequest {
  readonly endpoint: string;
  readonly form: Readonly<Record<string, string>>;
  readonly policy: RetryPolicy;
  readonly refreshMarginMs: number;
  readonly budgetMs: number;
}

// The tenant's token endpoint on the authority host, and the client credentials form.
function tokenRequest(options: AzureTokenSourceOptions): TokenRequest {
  for (const field of ["tenantId", "clientId", "clientSecret"] as const) {
    if (!options[field]) throw new InvalidArgumentError(field, "is required for the Azure group provider");
  }
  const authority = new URL(options.authorityHost ?? DEFAULTS.groups.azure.authorityHost);
  const endpoint = new URL(
    `${authority.pathname.replace(/\/+$/, "")}/${encodeURIComponent(options.tenantId)}/oauth2/v2.0/token`,
    authority,
  ).href;
  return {
    endpoint,
    form: {
      grant_type: "client_credentials",
      client_id: options.clientId,
      client_secret: options.clientSecret,
      scope: (options.scopes ?? DEFAULTS.groups.azure.scopes).join(" "),
    },
    policy: { ...DEFAULT_RETRY, ...options.retry },
    refreshMarginMs: options.refreshMarginMs ?? 300_000,
    budgetMs: options.budgetMs ?? 10_000,
  };
}

// Asks the endpoint for a token, retrying within the budget; refused or malformed answers are UnavailableError.
async function requestToken(request: TokenRequest): Promise<CachedToken> {
  const started = request.policy.now();
  const response = await fetchWithRetry(
    request.endpoint,
    { method: "POST", body: new URLSearchParams(request.form), headers: { accept: "application/json" } },
    started + request.budgetMs,
    request.policy,
    "Azure token request",
  );
  const text = await readBounded(response, 64 * 1024);
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    // reported below
  }
  if (response.status !== 200 || typeof json.access_token !== "string") {
    // The `error` code (e.g. invalid_client) helps the operator; the description may echo request details.
    const code = typeof json.error === "string" ? json.error : `HTTP ${response.status}`;
    throw new UnavailableError(`Azure token request refused: ${code}`);
  }
  const lifetimeMs = Number(json.expires_in) * 1000;
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0) {
    throw new UnavailableError("Azure token response has no valid expires_in");
  }
  const expiresAt = started + lifetimeMs;
  const refreshAt = expiresAt - Math.min(request.refreshMarginMs, lifetimeMs / 2);
  return { value: json.access_token, expiresAt, refreshAt };
}
