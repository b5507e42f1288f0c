import { createLocalJWKSet, errors } from "jose";
import type { JSONWebKeySet } from "jose";
import { DeadlineExceededError, InvalidArgumentError, UnavailableError } from "../core/errors.js";
import { readBounded } from "./http-body.js";
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
  const cacheMaxAgeMs = options.cacheMaxAgeMs ?? 600_000;
  const cooldownMs = options.cooldownMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxStaleMs = options.maxStaleMs ?? 86_400_000;
  const maxResponseBytes = options.maxResponseBytes ?? 512 * 1024;
  const now = options.now ?? Date.now;

  let local: LocalSet | undefined;
  let fetchedAt: number | undefined;
  let attemptedAt: number | undefined;
  let pending: Promise<void> | undefined;

  const mayFetch = (): boolean => attemptedAt === undefined || now() - attemptedAt >= cooldownMs;

  const fetchOnce = (): Promise<void> => {
    pending ??= (async () => {
      attemptedAt = now();
      try {
        const json = await fetchJwks(url, timeoutMs, maxResponseBytes);
        local = createLocalJWKSet(json);
        fetchedAt = now();
      } catch (error) {
        const failure = toFetchError(error);
        options.onFetchError?.(failure);
        throw failure;
      }
    })().finally(() => {
      pending = undefined;
    });
    return pending;
  };

  /** Makes sure fresh-enough keys are loaded; stale keys are kept when a refetch fails. */
  const ensureLoaded = async (): Promise<LocalSet> => {
    if (pending) await pending.catch(() => undefined);
    const fresh = local && fetchedAt !== undefined && now() - fetchedAt < cacheMaxAgeMs;
    if (!fresh && mayFetch()) {
      try {
        await fetchOnce();
      } catch (error) {
        if (!local) throw error;
      }
    }
    if (!local) throw new UnavailableError("signing keys are not loaded yet (JWKS fetch failed)");
    if (fetchedAt !== undefined && now() - fetchedAt >= maxStaleMs) {
      throw new UnavailableError("signing keys are too stale: the JWKS could not be refreshed");
    }
    return local;
  };

  const keySet = async (header: Parameters<KeySet>[0], token: Parameters<KeySet>[1]) => {
    const keys = await ensureLoaded();
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
    }
    // An unknown kid may be a freshly rotated key: refetch, but at most once per cooldown.
    if (!pending && !mayFetch()) throw rejectToken("token_unknown_key", "no signing key matches the token");
    if (pending) await pending.catch(() => undefined);
    else await fetchOnce();
    if (!local) throw new UnavailableError("signing keys are not loaded");
    try {
      return await local(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey) {
        throw rejectToken("token_unknown_key", "no signing key matches the token");
      }
      throw error;
    }
  };
  return Object.assign(keySet, { lastFetchedAt: () => fetchedAt });
}

async function fetchJwks(url: URL, timeoutMs: number, maxBytes: number): Promise<JSONWebKeySet> {
  // redirect "error": the configured URL is the only source of keys.
  const response = await fetch(url, {
    signal: AbortSignal.timeout(timeoutMs),
    redirect: "error",
    headers: { accept: "application/json, application/jwk-set+json" },
  });
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new UnavailableError(`JWKS fetch answered HTTP ${response.status}`);
  }
  const text = await readBounded(response, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
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
