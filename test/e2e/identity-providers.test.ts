import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { buildIdentity, remoteKeySource } from "../../src/wiring/identity.js";
import { ENTRA_TENANT, entraV1, entraV2, freshClaims } from "../support/fixtures/entra/index.js";
import { GraphStandIn, group } from "../support/graph-stand-in.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { RecordingLogger } from "../support/recording-logger.js";

// Each provider configuration the README documents, from the environment to the user and groups it yields.
let issuer: JwksIssuer;
let graph: GraphStandIn;

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  graph = await GraphStandIn.start();
  graph.users.set("8f3d2b1a-4c5e-4f6a-9b8c-7d6e5f4a3b2c", [group("analysts"), group("sales-readers")]);
  graph.users.set("2a4b6c8d-0e1f-4a3b-8c5d-6e7f8a9b0c1d", [group("analysts"), group("sales-readers")]);
});

afterAll(async () => {
  await issuer?.close();
  await graph?.close();
});

interface ProviderCase {
  readonly env: Record<string, string>;
  readonly claims: () => Record<string, unknown>;
  readonly user: string;
  readonly groups: readonly string[];
}

const now = () => Math.floor(Date.now() / 1000);
const timed = () => ({ iat: now(), nbf: now(), exp: now() + 600 });

const cases: Record<string, ProviderCase> = {
  "Keycloak, realm roles": {
    env: {
      JWT_ISSUER: "https://keycloak.example.com/realms/data",
      JWT_AUDIENCE: "hasura",
      USER_CLAIM: "preferred_username",
      USER_CLAIM_FORMAT: "any",
      GROUPS_CLAIM: "realm_access.roles",
    },
    claims: () => ({
      ...timed(),
      iss: "https://keycloak.example.com/realms/data",
      aud: ["hasura", "account"],
      preferred_username: "alice",
      realm_access: { roles: ["analysts", "offline_access"] },
    }),
    user: "alice",
    groups: ["analysts", "offline_access"],
  },
  "Keycloak, groups mapper": {
    env: {
      JWT_ISSUER: "https://keycloak.example.com/realms/data",
      JWT_AUDIENCE: "hasura",
      USER_CLAIM: "email",
      GROUPS_CLAIM: "groups",
    },
    claims: () => ({
      ...timed(),
      iss: "https://keycloak.example.com/realms/data",
      aud: "hasura",
      email: "alice@example.com",
      groups: ["analysts"],
    }),
    user: "alice@example.com",
    groups: ["analysts"],
  },
  Okta: {
    env: {
      JWT_ISSUER: "https://example.okta.com/oauth2/default",
      JWT_AUDIENCE: "api://default",
      USER_CLAIM: "sub",
      GROUPS_CLAIM: "groups",
    },
    claims: () => ({
      ...timed(),
      iss: "https://example.okta.com/oauth2/default",
      aud: "api://default",
      sub: "alice@example.com",
      groups: ["Everyone", "analysts"],
    }),
    user: "alice@example.com",
    groups: ["Everyone", "analysts"],
  },
  Auth0: {
    env: {
      JWT_ISSUER: "https://example.eu.auth0.com/",
      JWT_AUDIENCE: "https://hasura.example.com",
      USER_CLAIM: "https://example.com/email",
      GROUPS_CLAIM: "https://example.com/groups",
    },
    claims: () => ({
      ...timed(),
      iss: "https://example.eu.auth0.com/",
      aud: ["https://hasura.example.com", "https://example.eu.auth0.com/userinfo"],
      sub: "auth0|64f0c0ffee",
      "https://example.com/email": "alice@example.com",
      "https://example.com/groups": ["analysts"],
    }),
    user: "alice@example.com",
    groups: ["analysts"],
  },
};

function entraEnv(): Record<string, string> {
  return {
    AZURE_TENANT_ID: ENTRA_TENANT,
    AZURE_CLIENT_ID: graph.clientId,
    AZURE_CLIENT_SECRET: graph.clientSecret,
    AZURE_AUTHORITY_HOST: graph.url,
    GRAPH_BASE_URL: graph.graphBaseUrl,
    // v1 tokens carry the application id URI, v2 tokens the bare client id.
    JWT_AUDIENCE: '["api://6e74172b-be56-4843-9ff4-e66a39bb12e3","6e74172b-be56-4843-9ff4-e66a39bb12e3"]',
    USER_CLAIM: '["unique_name","upn","preferred_username"]',
  };
}

async function resolve(env: Record<string, string>, claims: Record<string, unknown>) {
  const config = loadConfig({
    JWKS_URL: issuer.jwksUrl,
    ROLEMAPPER_API_TOKENS: "test:0123456789abcdef0123",
    ...env,
  });
  const logger = new RecordingLogger().pino;
  const identity = buildIdentity(config, logger, remoteKeySource(config, logger));
  const verified = await identity.verifier.verify(await issuer.sign(claims, { bare: true }));
  // Entra display names come with their object ids, to be matched against pins; the names are compared here.
  const groups = identity.pinned
    ? (await identity.pinned.groups.directoryGroupsOf(verified.claims)).map((group) => group.name)
    : await identity.groups!.groupsOf(verified.claims);
  return { user: identity.userName(verified.claims), groups };
}

describe("documented identity provider configurations", () => {
  it.each(Object.entries(cases))("%s", async (_name, provider) => {
    expect(await resolve(provider.env, provider.claims())).toEqual({
      user: provider.user,
      groups: provider.groups,
    });
  });

  it.each([
    ["v1", entraV1, "alice@contoso.com"],
    ["v2", entraV2, "bob@contoso.com"],
  ])("Entra ID %s tokens, groups from Microsoft Graph", async (_version, fixture, user) => {
    const resolved = await resolve(entraEnv(), freshClaims(fixture()));
    expect(resolved.user).toBe(user);
    expect([...resolved.groups].sort()).toEqual(["analysts", "sales-readers"]);
  });

  it("Entra ID refuses a token of another tenant", async () => {
    const claims = { ...freshClaims(entraV1()), tid: "00000000-0000-4000-8000-000000000000" };
    await expect(resolve(entraEnv(), claims)).rejects.toMatchObject({ code: "unauthenticated" });
  });
});
