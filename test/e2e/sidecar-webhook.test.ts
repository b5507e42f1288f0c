import { exportSPKI, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// The whole sidecar on ephemeral ports, verifying real tokens against a local JWKS server.
let issuer: JwksIssuer;
let running: RunningSidecar;

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  running = await startTestSidecar(issuerEnv(issuer));
  await running.sidecar.service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales",
    componentId: "urn:sales",
    rootFields: ["sales_orders"],
  });
  await running.sidecar.service.setGroupRoles(INTERNAL_CALLER, "sales", ["group:analysts"]);
});

afterAll(async () => {
  await running?.stop();
  await issuer?.close();
});

async function ask(headers: Record<string, string>, query = "{ sales_orders { id } }") {
  return running.post({ headers, request: { query } });
}

const alice = { unique_name: "alice@corp.com", groups: ["analysts"] };
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("the webhook with real signed tokens", () => {
  it("grants the role mapped to the caller's group", async () => {
    const token = await issuer.sign(alice);
    expect(await ask({ Authorization: `Bearer ${token}` })).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales" },
    });
  });

  const now = () => Math.floor(Date.now() / 1000);
  const rejected: [string, () => Promise<Record<string, string>>][] = [
    [
      "an expired token",
      async () => bearer(await issuer.sign({ ...alice, exp: now() - 3600, iat: now() - 7200 })),
    ],
    ["a token not yet valid", async () => bearer(await issuer.sign({ ...alice, nbf: now() + 3600 }))],
    ["a wrong audience", async () => bearer(await issuer.sign({ ...alice, aud: "api://other" }))],
    ["a wrong issuer", async () => bearer(await issuer.sign({ ...alice, iss: "https://evil.example.com" }))],
    [
      "alg none",
      async () =>
        bearer(`${b64({ alg: "none", typ: "JWT" })}.${b64({ ...issuer.defaultClaims(), ...alice })}.`),
    ],
    [
      "HS256 signed with the public key",
      async () => {
        const pem = await exportSPKI(issuer.currentKey.publicKey);
        const token = await new SignJWT({ ...issuer.defaultClaims(), ...alice })
          .setProtectedHeader({ alg: "HS256", kid: issuer.currentKey.kid })
          .sign(new TextEncoder().encode(pem));
        return bearer(token);
      },
    ],
    ["an unknown kid", async () => bearer(await issuer.sign(alice, {}, await JwksIssuer.strayKey("nobody")))],
    ["garbage", async () => bearer("not.a.jwt")],
    ["a missing header", async () => ({})],
    ["a wrong scheme", async () => ({ Authorization: `Basic ${await issuer.sign(alice)}` })],
  ];

  it.each(rejected)("denies %s with 401", async (_name, headers) => {
    expect(await ask(await headers())).toEqual({ status: 401, body: "Unauthorized" });
  });

  it("is still serving after every rejection, and never logged a token", async () => {
    const token = await issuer.sign(alice);
    expect((await ask({ authorization: `bearer ${token}` })).status).toBe(200);
    expect(running.log.raw()).not.toContain(token);
    const decisions = running.log.lines().filter((line) => line.event === "decision");
    expect(decisions.length).toBeGreaterThanOrEqual(rejected.length + 2);
    for (const line of decisions) expect(line).toHaveProperty("latency_ms");
  });

  it("denies a root field no role of the caller maps, and a mutation", async () => {
    const headers = bearer(await issuer.sign(alice));
    expect((await ask(headers, "{ hr_salaries { id } }")).status).toBe(401);
    expect((await ask(headers, "mutation { delete_sales_orders { affected_rows } }")).status).toBe(401);
  });

  it("enforces a revoked grant on the very next decision", async () => {
    const headers = bearer(await issuer.sign(alice));
    await running.sidecar.service.setGroupRoles(INTERNAL_CALLER, "sales", []);
    expect((await ask(headers)).status).toBe(401);
    await running.sidecar.service.setGroupRoles(INTERNAL_CALLER, "sales", ["group:analysts"]);
    expect((await ask(headers)).status).toBe(200);
  });
});

function bearer(token: string): Record<string, string> {
  return { Authorization: `Bearer ${token}` };
}
