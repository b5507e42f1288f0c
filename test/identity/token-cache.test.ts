import { describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../../src/core/errors.js";
import type { TokenVerifier, VerifiedToken } from "../../src/core/identity.js";
import { createCachingVerifier, tokenCacheKey } from "../../src/identity/token-cache.js";

/** A verifier that counts calls and answers with the expiry written in the token ("tok:<exp>"). */
function countingVerifier() {
  const seen: string[] = [];
  const inner: TokenVerifier = {
    async verify(token) {
      seen.push(token);
      if (token.startsWith("bad")) throw new UnauthenticatedError("no", "token_bad_signature");
      const exp = Number(token.split(":")[1]);
      return { claims: { exp, token }, expiresAt: exp } satisfies VerifiedToken;
    },
  };
  return { inner, seen };
}

describe("verified-token cache", () => {
  it("answers a repeated token from the cache", async () => {
    const { inner, seen } = countingVerifier();
    const clock = 1_000_000_000;
    const cached = createCachingVerifier(inner, { now: () => clock });
    const token = `tok:${clock / 1000 + 60}`;
    const first = await cached.verify(token);
    expect(await cached.verify(token)).toBe(first);
    expect(seen).toHaveLength(1);
  });

  it("never serves a token past its exp", async () => {
    const { inner, seen } = countingVerifier();
    let clock = 1_000_000_000;
    const cached = createCachingVerifier(inner, { now: () => clock });
    const token = `tok:${clock / 1000 + 60}`;
    await cached.verify(token);
    clock += 59_999;
    await cached.verify(token);
    expect(seen).toHaveLength(1);
    clock += 1;
    await cached.verify(token);
    expect(seen).toHaveLength(2);
  });

  it("never keeps an entry longer than the token lifetime bound, whatever the exp", async () => {
    const { inner, seen } = countingVerifier();
    let clock = 1_000_000_000;
    const cached = createCachingVerifier(inner, { now: () => clock, maxLifetimeMs: 3_600_000 });
    const token = `tok:${clock / 1000 + 365 * 86_400}`;
    await cached.verify(token);
    clock += 3_599_999;
    await cached.verify(token);
    expect(seen).toHaveLength(1);
    clock += 1;
    await cached.verify(token);
    expect(seen).toHaveLength(2);
  });

  it("bounds entries to a day by default", async () => {
    const { inner, seen } = countingVerifier();
    let clock = 1_000_000_000;
    const cached = createCachingVerifier(inner, { now: () => clock });
    const token = `tok:${clock / 1000 + 365 * 86_400}`;
    await cached.verify(token);
    clock += 86_400_000;
    await cached.verify(token);
    expect(seen).toHaveLength(2);
  });

  it("shares one verification among concurrent calls for a token", async () => {
    const { inner, seen } = countingVerifier();
    const cached = createCachingVerifier(inner);
    const token = `tok:${Math.floor(Date.now() / 1000) + 60}`;
    const results = await Promise.all(Array.from({ length: 50 }, () => cached.verify(token)));
    expect(new Set(results).size).toBe(1);
    expect(seen).toHaveLength(1);
  });

  it("does not cache refusals", async () => {
    const { inner, seen } = countingVerifier();
    const cached = createCachingVerifier(inner);
    await expect(cached.verify("bad")).rejects.toBeInstanceOf(UnauthenticatedError);
    await expect(cached.verify("bad")).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(seen).toHaveLength(2);
  });

  it("evicts beyond its bound", async () => {
    const { inner, seen } = countingVerifier();
    const cached = createCachingVerifier(inner, { maxEntries: 2 });
    const exp = Math.floor(Date.now() / 1000) + 60;
    for (const n of [1, 2, 3, 1]) await cached.verify(`tok:${exp}:${n}`);
    expect(seen).toHaveLength(4);
  });

  it("keys entries by a SHA-256 of the token, never the token itself", () => {
    const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.sig";
    const key = tokenCacheKey(token);
    expect(key).toBe("a8r5zXpLtd0-yh7RVVrWS8zfw-cXT8Dr8_2HdmlfjV4");
    expect(key).not.toContain("eyJ");
    expect(tokenCacheKey(`${token}x`)).not.toBe(key);
  });
});
