import { SignJWT, exportSPKI } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createJwtVerifier } from "../../src/identity/jwt-verifier.js";
import type { JwtVerifierOptions } from "../../src/identity/jwt-verifier.js";
import { parseJwtOptions } from "../../src/identity/jwt-options.js";
import { createRemoteKeySet } from "../../src/identity/remote-key-set.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { rejectionReason as reason } from "../support/rejections.js";

let issuer: JwksIssuer;
beforeAll(async () => {
  issuer = await JwksIssuer.start();
});
afterAll(() => issuer.close());

function verifier(extra: Partial<JwtVerifierOptions> = {}) {
  return createJwtVerifier({
    keys: createRemoteKeySet({ url: issuer.jwksUrl }),
    audience: issuer.audience,
    issuer: issuer.url,
    ...extra,
  });
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

describe("JWT verification against a JWKS", () => {
  it("accepts a valid token and returns its claims and expiry", async () => {
    const token = await issuer.sign({ unique_name: "alice@example.com" });
    const verified = await verifier().verify(token);
    expect(verified.claims.unique_name).toBe("alice@example.com");
    expect(verified.expiresAt).toBe(verified.claims.exp);
  });

  it("accepts any of several configured audiences and issuers", async () => {
    const token = await issuer.sign({ aud: ["other", "api://second"] });
    const v = verifier({ audience: ["api://first", "api://second"], issuer: ["x", issuer.url] });
    await expect(v.verify(token)).resolves.toBeDefined();
  });

  it.each([
    ["expired", { exp: now() - 120 }, "token_expired"],
    ["not yet valid", { nbf: now() + 600 }, "token_not_yet_valid"],
    ["wrong audience", { aud: "api://someone-else" }, "token_bad_audience"],
    ["wrong issuer", { iss: "https://evil.example.com" }, "token_bad_issuer"],
    ["non-numeric exp", { exp: "tomorrow" }, "token_claim_invalid"],
  ])("refuses a token that is %s", async (_name, claims, expected) => {
    expect(await reason(verifier().verify(await issuer.sign(claims)))).toBe(expected);
  });

  it("tolerates small clock skew within the leeway", async () => {
    const token = await issuer.sign({ exp: now() - 5, nbf: now() + 5 });
    await expect(verifier().verify(token)).resolves.toBeDefined();
    expect(await reason(verifier({ clockToleranceSeconds: 0 }).verify(token))).toBe("token_expired");
  });

  it("requires exp even when JWT_OPTIONS turns verify_exp off", async () => {
    const { options, warnings } = parseJwtOptions({ verify_exp: false, require: [] });
    expect(warnings).toHaveLength(1);
    const v = verifier({ claimOptions: options });
    const withoutExp = { ...issuer.defaultClaims(), exp: undefined };
    expect(await reason(v.verify(await issuer.sign(withoutExp, { bare: true })))).toBe("token_claim_missing");
    expect(await reason(v.verify(await issuer.sign({ exp: now() - 300 })))).toBe("token_expired");
  });

  it("honours the PyJWT options verify_aud and require", async () => {
    const noAud = parseJwtOptions({ verify_aud: false }).options;
    await expect(
      verifier({ claimOptions: noAud }).verify(await issuer.sign({ aud: "x" })),
    ).resolves.toBeDefined();
    const needsSub = parseJwtOptions({ require: ["sub"] }).options;
    expect(await reason(verifier({ claimOptions: needsSub }).verify(await issuer.sign({})))).toBe(
      "token_claim_missing",
    );
  });

  describe("JWT_MAX_TOKEN_LIFETIME_S", () => {
    const day = 86_400;
    it.each([
      ["a day from iat", { iat: now(), exp: now() + day }, "accepted"],
      ["a day and a second from iat", { iat: now(), exp: now() + day + 1 }, "token_lifetime"],
      ["issued a week ago for eight days", { iat: now() - 7 * day, exp: now() + day }, "token_lifetime"],
      ["no iat, a day from now", { iat: undefined, exp: now() + day }, "accepted"],
      ["no iat, a year from now", { iat: undefined, exp: now() + 365 * day }, "token_lifetime"],
      // A future iat must not stretch the time a token (or its cache entry) stays good.
      [
        "iat a week ahead, valid an hour after it",
        { iat: now() + 7 * day, exp: now() + 7 * day + 3600 },
        "token_lifetime",
      ],
    ])("%s: %s", async (_name, claims, expected) => {
      const verdict = verifier()
        .verify(await issuer.sign(claims))
        .then(() => "accepted");
      expect(expected === "accepted" ? await verdict : await reason(verdict)).toBe(expected);
    });

    it("follows the configured bound", async () => {
      const token = await issuer.sign({ iat: now(), exp: now() + 7200 });
      expect(await reason(verifier({ maxTokenLifetimeSeconds: 3600 }).verify(token))).toBe("token_lifetime");
      await expect(verifier({ maxTokenLifetimeSeconds: 7200 }).verify(token)).resolves.toBeDefined();
      expect(() => verifier({ maxTokenLifetimeSeconds: 0 })).toThrow(/maxTokenLifetimeSeconds/);
    });
  });

  it("refuses a token with an audience when none is configured, as PyJWT does", async () => {
    const v = verifier({ audience: undefined });
    expect(await reason(v.verify(await issuer.sign({})))).toBe("token_bad_audience");
  });

  it('refuses alg "none"', async () => {
    const token = `${b64({ alg: "none", typ: "JWT" })}.${b64(issuer.defaultClaims())}.`;
    expect(await reason(verifier().verify(token))).toBe("token_alg_not_allowed");
  });

  it("refuses HS256 signed with the public key as the HMAC secret", async () => {
    const pem = await exportSPKI(issuer.currentKey.publicKey);
    for (const secret of [
      new TextEncoder().encode(pem),
      new TextEncoder().encode(JSON.stringify(issuer.jwks())),
    ]) {
      const token = await new SignJWT(issuer.defaultClaims())
        .setProtectedHeader({ alg: "HS256", kid: issuer.currentKey.kid })
        .sign(secret);
      expect(await reason(verifier().verify(token))).toBe("token_alg_not_allowed");
    }
  });

  it("never lets configuration allow none or HS256", () => {
    expect(() => verifier({ algorithms: ["HS256"] })).toThrow(/symmetric/);
    expect(() => verifier({ algorithms: ["none"] })).toThrow(/never/);
  });

  it("refuses a token signed by an unpublished key, with or without a known kid", async () => {
    const stray = await JwksIssuer.strayKey();
    expect(await reason(verifier().verify(await issuer.sign({}, {}, stray)))).toBe("token_unknown_key");
    const forged = await issuer.sign({}, {}, { ...stray, kid: issuer.currentKey.kid });
    expect(await reason(verifier().verify(forged))).toBe("token_bad_signature");
  });

  it("refuses a tampered payload", async () => {
    const [h, , s] = (await issuer.sign({ unique_name: "alice" })).split(".");
    const tampered = `${h}.${b64({ ...issuer.defaultClaims(), unique_name: "admin" })}.${s}`;
    expect(await reason(verifier().verify(tampered))).toBe("token_bad_signature");
  });

  it.each([
    ["empty", "", "token_missing"],
    ["garbage", "not a token", "token_malformed"],
    ["three garbage parts", "a.b.c", "token_malformed"],
  ])("refuses %s input", async (_name, input, expected) => {
    expect(await reason(verifier().verify(input))).toBe(expected);
  });

  it("refuses a correctly signed payload that is not a JSON object", async () => {
    const token = await issuer.signRaw({}, [issuer.defaultClaims()]);
    expect(await reason(verifier().verify(token))).toBe("token_malformed");
  });

  it("refuses an oversize token before decoding it", async () => {
    const fetchesBefore = issuer.jwksFetches;
    const token = await issuer.sign({ padding: "x".repeat(20_000) });
    expect(await reason(verifier().verify(token))).toBe("token_too_large");
    expect(issuer.jwksFetches).toBe(fetchesBefore);
    await expect(verifier({ maxTokenBytes: 64 * 1024 }).verify(token)).resolves.toBeDefined();
  });

  it("refuses a token with a crit header", async () => {
    const token = await issuer.signRaw(
      { crit: ["urn:example:policy"], "urn:example:policy": 1 },
      issuer.defaultClaims(),
    );
    expect(await reason(verifier().verify(token))).toBe("token_crit_unsupported");
    const plain = await issuer.signRaw({}, issuer.defaultClaims());
    await expect(verifier().verify(plain)).resolves.toBeDefined();
  });

  it("ignores a jku header pointing elsewhere: keys come only from the configured set", async () => {
    const attacker = await JwksIssuer.start();
    try {
      const token = await attacker.sign(
        { iss: issuer.url, aud: issuer.audience },
        { header: { jku: attacker.jwksUrl, x5u: `${attacker.url}/cert.pem` } },
      );
      expect(await reason(verifier().verify(token))).toBe("token_unknown_key");
      expect(attacker.jwksFetches).toBe(0);
    } finally {
      await attacker.close();
    }
  });
});

describe("Azure tenant checks", () => {
  const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  const az = () => verifier({ issuer: undefined, azureTenantId: tid });

  it("accepts the tenant's v1 and v2 issuers", async () => {
    for (const iss of [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.com/${tid}/v2.0`]) {
      await expect(az().verify(await issuer.sign({ tid, iss }))).resolves.toBeDefined();
    }
  });

  it("refuses another tenant's token even when its signature is valid", async () => {
    const other = "00000000-0000-4000-8000-000000000001";
    const token = await issuer.sign({ tid: other, iss: `https://sts.windows.net/${other}/` });
    expect(await reason(az().verify(token))).toBe("token_bad_tenant");
  });

  it("refuses the right tid with a foreign issuer", async () => {
    const token = await issuer.sign({
      tid,
      iss: "https://sts.windows.net/00000000-0000-4000-8000-000000000001/",
    });
    expect(await reason(az().verify(token))).toBe("token_bad_issuer");
  });

  it("refuses a tenant id that is not a GUID at construction", () => {
    expect(() => verifier({ azureTenantId: "contoso.onmicrosoft.com" })).toThrow(/AZURE_TENANT_ID/);
  });
});
