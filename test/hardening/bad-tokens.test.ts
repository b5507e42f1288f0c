import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeStore } from "../support/fake-store.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { postWebhook } from "./support/http.js";
import { seedHardeningMapping } from "./support/mapping.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { b64, hmacToken, unsignedToken } from "./support/tokens.js";

// A sidecar in production form: keys from a JWKS over HTTP, audience and issuer pinned.
let issuer: JwksIssuer;
// A second issuer the attacker controls; its JWKS must never be fetched.
let attacker: JwksIssuer;
let running: RunningSidecar;
const ALICE = { unique_name: "alice@corp.com", groups: ["analysts"] };

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  attacker = await JwksIssuer.start();
  running = await startTestSidecar(
    {
      JWKS_URL: issuer.jwksUrl,
      JWT_AUDIENCE: issuer.audience,
      JWT_ISSUER: issuer.url,
      ROLEMAPPER_API_INSECURE: "true",
    },
    { store: new FakeStore() },
  );
  await seedHardeningMapping(running.sidecar.service);
});
afterAll(async () => {
  await running?.stop();
  await issuer?.close();
  await attacker?.close();
});

async function decide(token: string): Promise<number> {
  const answer = await postWebhook(running.webhookUrl, {
    headers: { Authorization: `Bearer ${token}` },
    request: { query: "{ orders }" },
  });
  return answer.status;
}

describe("hostile tokens against a JWKS-configured sidecar", () => {
  it("a genuine token is allowed (the baseline every refusal below is measured against)", async () => {
    expect(await decide(await issuer.sign(ALICE))).toBe(200);
  });

  it.each(["none", "None", "NONE", "nOnE"])("alg %s: 401", async (alg) => {
    expect(await decide(unsignedToken({ ...issuer.defaultClaims(), ...ALICE }, alg))).toBe(401);
    // With a signature part appended too.
    expect(await decide(`${unsignedToken({ ...issuer.defaultClaims(), ...ALICE }, alg)}AAAA`)).toBe(401);
  });

  it("HS256 signed with the published public key as the secret: 401", async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuer.currentKey.publicJwk));
    expect(
      await decide(await hmacToken({ ...issuer.defaultClaims(), ...ALICE }, secret, issuer.currentKey.kid)),
    ).toBe(401);
  });

  it.each([
    ["an unknown extension", { crit: ["x-unknown"], "x-unknown": 1 }],
    ["exp as a header", { crit: ["exp"], exp: 1 }],
    ["b64 false", { crit: ["b64"], b64: false }],
    ["an empty list", { crit: [] }],
  ])("crit with %s, signed by the trusted key: 401", async (_name, header) => {
    expect(await decide(await issuer.signRaw(header, { ...issuer.defaultClaims(), ...ALICE }))).toBe(401);
  });

  it("jku / x5u pointing at the attacker's JWKS, signed by the attacker: 401, and nothing is fetched from there", async () => {
    const forged = attacker.currentKey;
    const claims = { ...issuer.defaultClaims(), ...ALICE };
    for (const header of [
      { jku: attacker.jwksUrl },
      { x5u: `${attacker.url}/cert.pem` },
      { jku: attacker.jwksUrl, kid: issuer.currentKey.kid },
    ]) {
      expect(await decide(await issuer.sign(claims, { header }, forged))).toBe(401);
    }
    expect(attacker.jwksFetches).toBe(0);
  });

  it("jku / x5u on a token signed by the trusted key: ignored, the configured JWKS alone decides (200)", async () => {
    const token = await issuer.sign(ALICE, {
      header: { jku: attacker.jwksUrl, x5u: `${attacker.url}/x.pem` },
    });
    expect(await decide(token)).toBe(200);
    expect(attacker.jwksFetches).toBe(0);
  });

  it("the attacker's public key embedded as `jwk` in the header: 401", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(publicKey);
    const token = await new SignJWT({ ...issuer.defaultClaims(), ...ALICE })
      .setProtectedHeader({ alg: "RS256", jwk, kid: await calculateJwkThumbprint(jwk) })
      .sign(privateKey);
    expect(await decide(token)).toBe(401);
  });

  it("forged kids (path traversal, SQL, 10 KB) in a burst: 401 each, and the JWKS is refetched at most once", async () => {
    const before = issuer.jwksFetches;
    const kids = [
      "../../etc/passwd",
      "' OR 1=1 --",
      "k".repeat(10_000),
      ...Array.from({ length: 50 }, (_, i) => `kid-${i}`),
    ];
    const stray = await JwksIssuer.strayKey();
    const statuses = await Promise.all(
      kids.map(async (kid) => decide(await issuer.sign(ALICE, { header: { kid } }, stray))),
    );
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect(issuer.jwksFetches - before).toBeLessThanOrEqual(1);
  });

  it("expired, not yet valid, wrong audience, wrong issuer, no exp: 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [
      { exp: now - 600, iat: now - 1200, nbf: now - 1200 },
      { nbf: now + 600 },
      { aud: "api://someone-else" },
      { iss: attacker.url },
      { exp: undefined },
    ]) {
      expect(await decide(await issuer.sign({ ...ALICE, ...claims })), JSON.stringify(claims)).toBe(401);
    }
  });

  it("a user claim spelling a granted user's subject (alice_corp.com for alice@corp.com): 401", async () => {
    expect(await decide(await issuer.sign({ ...ALICE, unique_name: "alice_corp.com" }))).toBe(401);
    expect(await decide(await issuer.sign({ ...ALICE, unique_name: "alice@corp_com" }))).toBe(401);
  });

  it("valid for longer than JWT_MAX_TOKEN_LIFETIME_S (a day), from iat or from now: 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    for (const claims of [
      { iat: now, nbf: now, exp: now + 86_400 + 60 },
      { iat: now - 30 * 86_400, exp: now + 600 },
      { iat: undefined, exp: now + 365 * 86_400 },
    ]) {
      expect(await decide(await issuer.sign({ ...ALICE, ...claims })), JSON.stringify(claims)).toBe(401);
    }
  });

  it("a payload that is not a JSON object, and a header that is not JSON: 401", async () => {
    expect(await decide(await issuer.signRaw({}, ["not", "an", "object"]))).toBe(401);
    const [, payload, signature] = (await issuer.sign(ALICE)).split(".");
    expect(await decide(`${b64("{not json")}.${payload}.${signature}`)).toBe(401);
  });
});
