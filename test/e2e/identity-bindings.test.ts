import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi } from "../grpc/client.js";
import { FakeStore } from "../support/fake-store.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// Issue 13 §2 and §3 through the whole sidecar, against the local JWKS issuer: a user claim that spells another
// person's subject, a token valid for too long, a token of another tenant, and Entra keys bound to no tenant.
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OTHER_TENANT = "00000000-0000-4000-8000-000000000001";
const API_TOKEN = "0123456789abcdef0123";
const DAY = 86_400;

let issuer: JwksIssuer;
let emails: RunningSidecar;
let names: RunningSidecar;
let tenantBound: RunningSidecar;
const clients: RoleMappingServiceClient[] = [];

/** One mapping in every sidecar: bob@example.com's grant, and the Keycloak user alice's. */
async function seed(running: RunningSidecar): Promise<RunningSidecar> {
  const { service } = running.sidecar;
  await service.upsertRole(INTERNAL_CALLER, {
    roleId: "r_orders",
    componentId: "cmp:orders",
    rootFields: ["orders"],
  });
  await service.setUserRoles(INTERNAL_CALLER, "r_orders", ["user:bob_example.com", "user:alice"]);
  return running;
}

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  const store = () => ({ store: new FakeStore() });
  emails = await seed(await startTestSidecar(issuerEnv(issuer), store()));
  names = await seed(
    await startTestSidecar(
      { ...issuerEnv(issuer), USER_CLAIM: "preferred_username", USER_CLAIM_FORMAT: "any" },
      store(),
    ),
  );
  // The local issuer stands for an Entra authority (AZURE_AUTHORITY_HOST on its host): the tenant must be bound.
  tenantBound = await seed(
    await startTestSidecar(
      { ...issuerEnv(issuer), AZURE_AUTHORITY_HOST: issuer.url, AZURE_TENANT_ID: TENANT, JWT_ISSUER: "" },
      store(),
    ),
  );
});

afterAll(async () => {
  for (const client of clients) client.close();
  await emails?.stop();
  await names?.stop();
  await tenantBound?.stop();
  await issuer?.close();
});

/** The webhook's answer to `claims` (signed by the issuer) reading `{ orders }`, and its decision log line. */
async function decide(running: RunningSidecar, claims: Record<string, unknown>) {
  const requestId = randomUUID();
  const token = await issuer.sign(claims);
  const answer = await running.post({
    headers: { Authorization: `Bearer ${token}`, "x-request-id": requestId },
    request: { query: "{ orders }" },
  });
  const line = running.log.lines().find((entry) => entry.request_id === requestId);
  return { ...answer, decision: { outcome: line?.outcome, reason: line?.reason, user: line?.user } };
}

/** ExplainDecision over gRPC with a token, as an operator asks why. */
async function explain(running: RunningSidecar, claims: Record<string, unknown>) {
  const client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure());
  clients.push(client);
  const answer = await promiseApi(client, bearer(API_TOKEN)).explainDecision({
    token: await issuer.sign(claims),
    user: "",
    groups: [],
    query: "{ orders }",
    operationName: "",
    requestedRole: "",
  });
  return { allowed: answer.allowed, reason: answer.reason, user: answer.user };
}

const REFUSED = { status: 401, body: "Unauthorized" };

describe("USER_CLAIM_FORMAT=email, the default: a claim is one address", () => {
  it("allows bob@example.com his grant", async () => {
    expect(await decide(emails, { unique_name: "bob@example.com" })).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:bob_example.com", "X-Hasura-Role": "r_orders" },
      decision: { outcome: "allow", reason: "allowed", user: "user:bob_example.com" },
    });
  });

  it("refuses a claim spelling bob's subject (bob_example.com): 401, user_claim_not_email", async () => {
    expect(await decide(emails, { unique_name: "bob_example.com" })).toEqual({
      ...REFUSED,
      decision: { outcome: "deny", reason: "user_claim_not_email", user: undefined },
    });
  });

  it("refuses what is not one address: a domain with _, two @, no @", async () => {
    for (const unique_name of ["bob@example_com.net", "bob@example.com@evil.example", "alice"]) {
      expect((await decide(emails, { unique_name })).decision.reason, unique_name).toBe(
        "user_claim_not_email",
      );
    }
  });

  it("ExplainDecision with a token goes through the same rule", async () => {
    expect(await explain(emails, { unique_name: "bob@example.com" })).toEqual({
      allowed: true,
      reason: "allowed",
      user: "user:bob_example.com",
    });
    expect(await explain(emails, { unique_name: "bob_example.com" })).toEqual({
      allowed: false,
      reason: "user_claim_not_email",
      user: "",
    });
  });
});

describe("USER_CLAIM_FORMAT=any: a claim is a name, never an address nor an address's subject", () => {
  it("allows the Keycloak user alice her grant", async () => {
    expect(await decide(names, { preferred_username: "alice" })).toMatchObject({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice", "X-Hasura-Role": "r_orders" },
    });
  });

  it.each([
    ["bob@example.com", "user_claim_has_at"],
    ["bob_example.com", "user_claim_like_email"],
  ])("refuses %s: 401, %s", async (name, reason) => {
    expect(await decide(names, { preferred_username: name })).toEqual({
      ...REFUSED,
      decision: { outcome: "deny", reason, user: undefined },
    });
    expect(await explain(names, { preferred_username: name })).toMatchObject({ allowed: false, reason });
  });
});

describe("JWT_MAX_TOKEN_LIFETIME_S (a day by default)", () => {
  const now = () => Math.floor(Date.now() / 1000);

  it.each([
    ["a day and a minute from iat", { iat: now(), nbf: now(), exp: now() + DAY + 60 }],
    ["no iat, a week from now", { iat: undefined, exp: now() + 7 * DAY }],
  ])("refuses a token valid %s: 401, token_lifetime", async (_name, timing) => {
    expect(await decide(emails, { unique_name: "bob@example.com", ...timing })).toEqual({
      ...REFUSED,
      decision: { outcome: "deny", reason: "token_lifetime", user: undefined },
    });
  });

  it("allows a token valid for exactly a day", async () => {
    const timing = { iat: now(), nbf: now(), exp: now() + DAY };
    expect((await decide(emails, { unique_name: "bob@example.com", ...timing })).status).toBe(200);
  });
});

describe("AZURE_TENANT_ID binds tokens with groups from claims, on an Entra authority's keys", () => {
  const entra = (tid: string) => ({
    unique_name: "bob@example.com",
    tid,
    iss: `https://sts.windows.net/${tid}/`,
  });

  it("allows the tenant's token", async () => {
    expect((await decide(tenantBound, entra(TENANT))).status).toBe(200);
  });

  it("refuses another tenant's token signed by the same keys: 401, token_bad_tenant", async () => {
    expect(await decide(tenantBound, entra(OTHER_TENANT))).toEqual({
      ...REFUSED,
      decision: { outcome: "deny", reason: "token_bad_tenant", user: undefined },
    });
  });
});

describe("Entra keys bound to no tenant and no audience", () => {
  /** Runs `node src/main.ts` as deployed with `env`; resolves with its exit code and output. */
  function startProcess(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: join(import.meta.dirname, "../.."),
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        NODE_ENV: "production",
        ROLEMAPPER_API_TOKENS: `test:${API_TOKEN}`,
        WEBHOOK_PORT: "0",
        ADMIN_HTTP_PORT: "0",
        GRPC_PORT: "0",
        METRICS_PORT: "0",
        ...env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
  }

  it.each([
    [
      "on Microsoft's global authority",
      () => ({ JWKS_URL: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys` }),
    ],
    [
      "on the host of AZURE_AUTHORITY_HOST",
      () => ({ JWKS_URL: issuer.jwksUrl, AZURE_AUTHORITY_HOST: issuer.url }),
    ],
  ])("the sidecar exits at start with JWKS_URL %s, naming the variables and why", async (_name, env) => {
    const fetchesBefore = issuer.jwksFetches;
    const { code, output } = await startProcess(env());
    expect(code, output).toBe(1);
    expect(output).toMatch(/JWT_ISSUER: or AZURE_TENANT_ID is required: .*every tenant/);
    expect(output).toMatch(/JWT_AUDIENCE: is required: .*every tenant/);
    // Refused before anything was served or fetched.
    expect(output).not.toMatch(/"event":"listening"/);
    expect(issuer.jwksFetches).toBe(fetchesBefore);
  });
});
