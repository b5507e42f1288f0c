import { hash } from "node:crypto";
import { DEFAULTS } from "../config/defaults.js";
import type { TokenVerifier, VerifiedToken } from "../core/identity.js";
import { SingleFlightCache, type CacheStats } from "./single-flight-cache.js";

/** Bounds of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most tokens remembered (TOKEN_CACHE_MAX; default 10 000). */
  readonly maxEntries?: number;
  /** Longest an entry is kept, whatever its `exp` (JWT_MAX_TOKEN_LIFETIME_S in ms; default one day). */
  readonly maxLifetimeMs?: number;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

/** A TokenVerifier that remembers verified tokens and counts its hits and misses. */
export interface CachingVerifier extends TokenVerifier {
  stats(): CacheStats;
}

/**
 * The cache key of a token: its SHA-256, so the cache never holds a usable credential. One-shot `hash`: a Hash
 * object per call cost a quarter more on the webhook's path.
 */
export function tokenCacheKey(token: string): string {
  return hash("sha256", token, "base64url");
}

/**
 * Wraps a TokenVerifier: a verified token is remembered until its `exp` (never past it, whatever the leeway) and
 * at most `maxLifetimeMs`, and concurrent verifications of one token share one promise. Refusals are not cached.
 */
export function createCachingVerifier(
  inner: TokenVerifier,
  options: TokenCacheOptions = {},
): CachingVerifier {
  const now = options.now ?? Date.now;
  const maxLifetimeMs = options.maxLifetimeMs ?? DEFAULTS.identity.maxTokenLifetimeS * 1000;
  const cache = new SingleFlightCache<VerifiedToken>({
    maxEntries: options.maxEntries ?? DEFAULTS.identity.tokenCacheMax,
    now,
  });
  return {
    verify(token: string): Promise<VerifiedToken> {
      return cache.get(tokenCacheKey(token), async () => {
        const verified = await inner.verify(token);
        // Bounded here too, so no entry outlives JWT_MAX_TOKEN_LIFETIME_S whatever verifier this wraps.
        return { value: verified, expiresAt: Math.min(verified.expiresAt * 1000, now() + maxLifetimeMs) };
      });
    },
    stats: () => cache.stats(),
  };
}
