import { createLocalJWKSet, errors } from "jose";
import type { CryptoKey, FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters } from "jose";
import { DeadlineExceededError, InvalidArgumentError, UnavailableError } from "../core/errors.js";
import { httpGet } from "./http-get.js";
import type { KeySet } from "./key-set.js";
import { rejectToken } from "./token-reasons.js";

/** How a remote JSON Web Key Set is fetched and cached. */
export interface RemoteKeySetOptions {
  /** The JWKS document, e.g. https://login.microsoftonline.com/{tenant}/discovery/v2.0/keys. */
  url: string | URL;
  /** Known keys are refetched once they are this old (default 10 minutes). */
  cacheMaxAgeMs?: number;
  /** Minimum gap between two fetches, whatever triggered them (default 30 s): forged `kid`s cannot hammer the IdP. */
  cooldownMs?: number;
  /** Per-fetch timeout (default 5 s). */
  timeoutMs?: number;
  /** While refetches fail, cached keys stay usable this long after the last good fetch (default 24 h). */
  maxStaleMs?: number;
  /** Largest JWKS response accepted (default 512 KiB). */
  maxResponseBytes?: number;
  /** Told about each failed fetch, so the caller can log it. */
  onFetchError?: (error: Error) => void;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

type LocalSet = ReturnType<typeof createLocalJWKSet>;

/** A KeySet backed by a remote JWKS with its fetch state, exposed for health checks. */
export interface RemoteKeySet extends KeySet {
  /** Milliseconds since the epoch of the last successful fetch, if any. */
  readonly lastFetchedAt: () => number | undefined;
}

/**
 * Keys from a remote JWKS.
 *
 * Not jose's createRemoteJWKSet: that one refetches on every call once its cache is stale and then fails even
 * though it holds the keys, and its cooldown counts only successful fetches, so during an outage each forged
 * `kid` causes a request. Here every fetch, good or bad, starts the cooldown, and known keys outlive an outage.
 */
export function createRemoteKeySet(options: RemoteKeySetOptions): RemoteKeySet {
  const url = new URL(options.url);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new InvalidArgumentError("url", "the JWKS URL must be http(s)");
  }
  const cache = new JwksCache(url, options);
  const keySet: KeySet = (header, token) => cache.keyFor(header, token);
  return Object.assign(keySet, { lastFetchedAt: () => cache.lastFetchedAt() });
}

/** The keys last fetched from one JWKS URL, when, and the fetch in flight. */
class JwksCache {
  private readonly cacheMaxAgeMs: number;
  private readonly cooldownMs: number;
  private readonly timeoutMs: number;
  private readonly maxStaleMs: number;
  private readonly maxResponseBytes: number;
  private readonly now: () => number;
  private local: LocalSet | undefined;
  private fetchedAt: number | undefined;
  private attemptedAt: number | undefined;
  private pending: Promise<void> | undefined;

  constructor(
    private readonly url: URL,
    private readonly options: RemoteKeySetOptions,
  ) {
    this.cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxStaleMs = options.maxStaleMs ?? 86_400_000;
    this.maxResponseBytes = options.maxResponseBytes ?? 512 * 1024;
    this.now = options.now ?? Date.now;
  }

  /** Milliseconds since the epoch of the last successful fetch, if any. */
  lastFetchedAt(): number | undefined {
    return this.fetchedAt;
  }

  /** The key the token's header names; an unknown `kid` refetches the set, at most once per cooldown. */
  async keyFor(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<CryptoKey> {
    const keys = await this.ensureLoaded();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    // An unknown kid may be a freshly rotated key: refetch, but at most once per cooldown.
    if (!this.pending && !this.mayFetch()) {
      throw rejectToken("token_unknown_key", "no signing key matches the token");
    }
    if (this.pending) await this.pending.catch(() => undefined);
    else await this.fetchOnce();
    if (!this.local) throw new UnavailableError("signing keys are not loaded");
    try {
      return await this.local(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw rejectToken("token_unknown_key", "no signing key matches the token");
      }
      throw error;
    }
  }

  private mayFetch(): boolean {
    return this.attemptedAt === undefined || this.now() - this.attemptedAt >= this.cooldownMs;
  }

  // One fetch at a time; every fetch, good or bad, starts the cooldown.
  private fetchOnce(): Promise<void> {
    this.pending ??= (async () => {
      this.attemptedAt = this.now();
      try {
        const json = await fetchJwks(this.url, this.timeoutMs, this.maxResponseBytes);
        this.local = createLocalJWKSet(json);
        this.fetchedAt = this.now();
      } catch (error) {
        const failure = toFetchError(error);
        this.options.onFetchError?.(failure);
        throw failure;
      }
    })().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Makes sure fresh-enough keys are loaded; stale keys are kept when a refetch fails. */
  private async ensureLoaded(): Promise<LocalSet> {
    if (this.pending) await this.pending.catch(() => undefined);
    const { local, fetchedAt } = this;
    const fresh = local && fetchedAt !== undefined && this.now() - fetchedAt < this.cacheMaxAgeMs;
    if (!fresh && this.mayFetch()) {
      try {
        await this.fetchOnce();
      } catch (error) {
        if (!this.local) throw error;
      }
    }
    if (!this.local) throw new UnavailableError("signing keys are not loaded yet (JWKS fetch failed)");
    if (this.fetchedAt !== undefined && this.now() - this.fetchedAt >= this.maxStaleMs) {
      throw new UnavailableError("signing keys are too stale: the JWKS could not be refreshed");
    }
    return this.local;
  }
}

async function fetchJwks(url: URL, timeoutMs: number, maxBytes: number): Promise<JSONWebKeySet> {
  // Redirects are not followed: the configured URL is the only source of keys.
  const answer = await httpGet(url, {
    what: "JWKS",
    headers: { accept: "application/json, application/jwk-set+json" },
    timeoutMs,
    maxBytes,
  });
  if (answer.status !== 200) throw new UnavailableError(`JWKS fetch answered HTTP ${answer.status}`);
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch (cause) {
    throw new UnavailableError("JWKS response is not JSON", { cause });
  }
  return json as JSONWebKeySet;
}

function toFetchError(error: unknown): Error {
  if (error instanceof UnavailableError || error instanceof DeadlineExceededError) return error;
  if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return new DeadlineExceededError("JWKS fetch timed out", { cause: error });
  }
  if (error instanceof errors.JWKSInvalid) {
    return new UnavailableError("JWKS response is not a valid key set", { cause: error });
  }
  return new UnavailableError("JWKS could not be fetched", { cause: error });
}
