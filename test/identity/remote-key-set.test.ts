import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UnauthenticatedError } from "../../src/core/errors.js";
import { DeadlineExceededError, UnavailableError } from "../../src/core/errors.js";
import { createJwtVerifier } from "../../src/identity/jwt-verifier.js";
import { createRemoteKeySet } from "../../src/identity/remote-key-set.js";
import type { RemoteKeySetOptions } from "../../src/identity/remote-key-set.js";
import { JwksIssuer } from "../support/jwks-issuer.js";

let issuer: JwksIssuer;
let clock: number;
beforeEach(async () => {
  issuer = await JwksIssuer.start();
  clock = Date.now();
});
afterEach(() => issuer.close());

const MINUTE = 60_000;

function setup(options: Partial<RemoteKeySetOptions> = {}) {
  const errors: Error[] = [];
  const keys = createRemoteKeySet({
    url: issuer.jwksUrl,
    now: () => clock,
    onFetchError: (e) => errors.push(e),
    ...options,
  });
  const verifier = createJwtVerifier({ keys, audience: issuer.audience, issuer: issuer.url });
  return { verifier, keys, errors };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("remote key set", () => {
  it("fetches the JWKS once and serves later tokens from the cache", async () => {
    const { verifier } = setup();
    for (let i = 0; i < 5; i++) await verifier.verify(await issuer.sign({ n: i }));
    expect(issuer.jwksFetches).toBe(1);
  });

  it("shares one fetch among concurrent first verifications", async () => {
    const { verifier } = setup();
    const token = await issuer.sign({});
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(issuer.jwksFetches).toBe(1);
  });

  it("accepts a rotated key after one refetch", async () => {
    const { verifier } = setup();
    await verifier.verify(await issuer.sign({}));
    clock += MINUTE; // past the cooldown
    await issuer.rotate();
    await verifier.verify(await issuer.sign({}));
    expect(issuer.jwksFetches).toBe(2);
    await verifier.verify(await issuer.sign({}));
    expect(issuer.jwksFetches).toBe(2);
  });

  it("rejects a removed key once the cache period has passed", async () => {
    const { verifier } = setup({ cacheMaxAgeMs: 10 * MINUTE });
    const oldKid = issuer.currentKey.kid;
    const oldToken = await issuer.sign({});
    await verifier.verify(oldToken);
    await issuer.rotate();
    issuer.removeKey(oldKid);
    clock += 5 * MINUTE;
    await expect(verifier.verify(oldToken)).resolves.toBeDefined(); // still cached
    clock += 6 * MINUTE;
    const error = await failure(verifier.verify(oldToken));
    expect((error as UnauthenticatedError).reason).toBe("token_unknown_key");
    await expect(verifier.verify(await issuer.sign({}))).resolves.toBeDefined();
  });

  it("keeps validating known keys while the JWKS is down, past the cache period", async () => {
    const { verifier, errors } = setup({ cacheMaxAgeMs: 10 * MINUTE, cooldownMs: 30_000 });
    const token = await issuer.sign({});
    await verifier.verify(token);
    issuer.mode = "down";
    clock += 30 * MINUTE;
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(UnavailableError);
    // Within the cooldown the failed refresh is not retried on every request.
    for (let i = 0; i < 10; i++) await verifier.verify(token);
    expect(issuer.jwksFetches).toBe(2);
  });

  it("stops trusting cached keys once they are older than maxStale", async () => {
    const { verifier } = setup({ cacheMaxAgeMs: MINUTE, maxStaleMs: 60 * MINUTE });
    const token = await issuer.sign({});
    await verifier.verify(token);
    issuer.mode = "down";
    clock += 61 * MINUTE;
    expect(await failure(verifier.verify(token))).toBeInstanceOf(UnavailableError);
  });

  it("reports the JWKS as unavailable when it was never reachable, without retrying every request", async () => {
    issuer.mode = "down";
    const { verifier } = setup({ cooldownMs: 30_000 });
    const token = await issuer.sign({});
    expect(await failure(verifier.verify(token))).toBeInstanceOf(UnavailableError);
    expect(await failure(verifier.verify(token))).toBeInstanceOf(UnavailableError);
    expect(issuer.jwksFetches).toBe(1);
    issuer.mode = "up";
    clock += 30_000;
    await expect(verifier.verify(token)).resolves.toBeDefined();
  });

  it("times out a JWKS that does not answer", async () => {
    issuer.mode = "hang";
    const { verifier } = setup({ timeoutMs: 200 });
    expect(await failure(verifier.verify(await issuer.sign({})))).toBeInstanceOf(DeadlineExceededError);
  });

  it("refuses a JWKS response larger than maxResponseBytes, naming the bound", async () => {
    const { verifier, errors } = setup({ maxResponseBytes: 64 });
    expect(await failure(verifier.verify(await issuer.sign({})))).toBeInstanceOf(UnavailableError);
    expect(errors.map((e) => e.message)).toEqual(["JWKS response larger than 64 bytes"]);
  });

  it("reports a JWKS that does not answer and one that is not reachable in their own words", async () => {
    issuer.mode = "hang";
    const hanging = setup({ timeoutMs: 200 });
    await failure(hanging.verifier.verify(await issuer.sign({})));
    const unreachable = setup({ url: "http://127.0.0.1:1/keys" });
    await failure(unreachable.verifier.verify(await issuer.sign({})));
    expect([...hanging.errors, ...unreachable.errors].map((e) => e.message)).toEqual([
      "JWKS fetch timed out",
      "JWKS could not be fetched",
    ]);
  });

  it("bounds refetches under a flood of forged kids", async () => {
    const { verifier } = setup({ cooldownMs: 30_000 });
    await verifier.verify(await issuer.sign({}));
    const stray = await JwksIssuer.strayKey();
    for (let round = 0; round < 3; round++) {
      clock += 31_000;
      const forged = await Promise.all(
        Array.from({ length: 50 }, (_, i) => issuer.sign({}, {}, { ...stray, kid: `forged-${round}-${i}` })),
      );
      for (const token of forged) {
        const error = await failure(verifier.verify(token));
        expect((error as UnauthenticatedError).reason).toBe("token_unknown_key");
      }
    }
    // One initial fetch plus at most one per cooldown window.
    expect(issuer.jwksFetches).toBe(4);
  });

  it("bounds refetches for forged kids while the JWKS is down", async () => {
    const { verifier } = setup({ cooldownMs: 30_000 });
    await verifier.verify(await issuer.sign({}));
    issuer.mode = "down";
    clock += 31_000;
    const stray = await JwksIssuer.strayKey();
    for (let i = 0; i < 20; i++) {
      await failure(verifier.verify(await issuer.sign({}, {}, { ...stray, kid: `forged-${i}` })));
    }
    expect(issuer.jwksFetches).toBe(2);
  });

  it("refuses a non-http URL", () => {
    expect(() => createRemoteKeySet({ url: "file:///etc/jwks.json" })).toThrow(/http/);
  });
});
