import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config/index.js";

const PRODUCTION = {
  NODE_ENV: "production",
  JWKS_URL: "https://idp.example.com/keys",
  ROLEMAPPER_API_TOKENS: "provisioner:0123456789abcdef0123",
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("starts in development mode on the embedded defaults", () => {
    const config = loadConfig({});
    expect(config.devMode).toBe(true);
    expect(config.store).toMatchObject({
      kind: "embedded",
      schema: "rolemapping",
      migrate: true,
      dataDir: "./data",
    });
    expect(config.webhook).toMatchObject({ host: "127.0.0.1", port: 8092, bodyLimitBytes: 1024 * 1024 });
    // Without credentials in development mode the API stays on localhost.
    expect(config.admin.host).toBe("127.0.0.1");
    expect(config.grpc.host).toBe("127.0.0.1");
    expect(config.metrics).toEqual({ host: "127.0.0.1", port: 8094 });
    expect(config.identity.tokenHeaders).toEqual(["Authorization"]);
    expect(config.identity.userClaims).toEqual(["unique_name"]);
    expect(Object.isFrozen(config.webhook)).toBe(true);
  });

  it("keeps the previous service's variables and their meaning", () => {
    const config = loadConfig({
      ...PRODUCTION,
      GRAPHQL_URL: "http://127.0.0.1:8080/v1/graphql",
      GRAPHQL_ADMIN_SECRET: "s3cret",
      GRAPHQL_ROLE: "rolemapper",
      JWT_AUDIENCE: '["api://a","api://b"]',
      JWT_ALGORITHMS: '["RS256","ES256"]',
      JWT_OPTIONS: '{"verify_aud": false, "leeway": 10}',
      AUTHORIZATION_HEADER_FIELD_NAMES: '["X-Token","Authorization"]',
      ROLEMAPPING_TABLE_SCHEMA: "public",
      AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47",
      AZURE_CLIENT_ID: "app",
      AZURE_CLIENT_SECRET: "secret",
      AZURE_SCOPES: '["https://graph.microsoft.com/.default"]',
    });
    expect(config.devMode).toBe(false);
    expect(config.store.kind).toBe("hasura");
    expect(config.store.graphql).toEqual({
      url: "http://127.0.0.1:8080/v1/graphql",
      role: "rolemapper",
      adminSecret: "s3cret",
    });
    expect(config.store.schema).toBe("public");
    expect(config.identity.audience).toEqual(["api://a", "api://b"]);
    expect(config.identity.algorithms).toEqual(["RS256", "ES256"]);
    expect(config.identity.jwtOptions.options).toMatchObject({ verifyAud: false, leewaySeconds: 10 });
    expect(config.identity.tokenHeaders).toEqual(["X-Token", "Authorization"]);
    expect(config.groups.provider).toBe("azure");
    expect(config.groups.azure?.tenantId).toBe("72f988bf-86f1-41af-91ab-2d7cd011db47");
    expect(config.admin.host).toBe("0.0.0.0");
  });

  it.each([
    ["production without a JWKS", { NODE_ENV: "production" }, /^JWKS_URL: required when NODE_ENV=production/],
    ["a port out of range", { WEBHOOK_PORT: "70000" }, /^WEBHOOK_PORT: expected an integer from 0 to 65535/],
    ["a JSON list that is not one", { JWT_ALGORITHMS: "RS256" }, /^JWT_ALGORITHMS: expected valid JSON/],
    ["an algorithm that must never be accepted", { JWT_ALGORITHMS: '["none"]' }, /^JWT_ALGORITHMS/],
    ["HMAC algorithms", { JWT_ALGORITHMS: '["HS256"]' }, /^JWT_ALGORITHMS/],
    ["JWT_OPTIONS that is not an object", { JWT_OPTIONS: "[1]" }, /^JWT_OPTIONS: expected a JSON object/],
    ["an unknown store", { ROLEMAPPING_STORE: "mysql" }, /^ROLEMAPPING_STORE: expected one of/],
    ["the postgres store without a URL", { ROLEMAPPING_STORE: "postgres" }, /^DATABASE_URL: required/],
    [
      "the hasura store without a secret",
      { GRAPHQL_URL: "http://h/v1/graphql" },
      /^GRAPHQL_ADMIN_SECRET: required/,
    ],
    [
      "a schema that is not an identifier",
      { ROLEMAPPING_TABLE_SCHEMA: "x; drop" },
      /^ROLEMAPPING_TABLE_SCHEMA/,
    ],
    ["half of the TLS settings", { GRPC_TLS_CERT: "/c.pem" }, /^GRPC_TLS_CERT: .* go together/],
    [
      "a tenant that is not a GUID",
      { AZURE_CLIENT_ID: "a", AZURE_CLIENT_SECRET: "b", AZURE_TENANT_ID: "contoso.com" },
      /^AZURE_TENANT_ID: expected the tenant GUID/,
    ],
    [
      "a boolean that is not one",
      { ALLOW_INTROSPECTION: "sure" },
      /^ALLOW_INTROSPECTION: expected true or false/,
    ],
    ["a sample rate over 1", { AUDIT_ALLOWED_SAMPLE: "2" }, /^AUDIT_ALLOWED_SAMPLE/],
    [
      "reserved role ids that are not JSON",
      { RESERVED_ROLE_IDS: "anonymous" },
      /^RESERVED_ROLE_IDS: expected a JSON list of role ids/,
    ],
    [
      "reserved role ids not in a list",
      { RESERVED_ROLE_IDS: '"anonymous"' },
      /^RESERVED_ROLE_IDS: expected a list/,
    ],
    [
      "an empty reserved role id",
      { RESERVED_ROLE_IDS: '["anonymous",""]' },
      /^RESERVED_ROLE_IDS\[1\]: must not/,
    ],
    [
      "a reserved role id not a string",
      { RESERVED_ROLE_IDS: "[7]" },
      /^RESERVED_ROLE_IDS\[0\]: expected a string/,
    ],
    ["a reserved role id twice", { RESERVED_ROLE_IDS: '["a","a"]' }, /^RESERVED_ROLE_IDS\[1\]: duplicate/],
    [
      "a websocket session of no length",
      { WEBSOCKET_SESSION_MAX_S: "0" },
      /^WEBSOCKET_SESSION_MAX_S: expected an integer from 1 to 86400/,
    ],
    ["a websocket session over a day", { WEBSOCKET_SESSION_MAX_S: "86401" }, /^WEBSOCKET_SESSION_MAX_S/],
    ["a websocket session in minutes", { WEBSOCKET_SESSION_MAX_S: "10m" }, /^WEBSOCKET_SESSION_MAX_S/],
  ])("refuses %s, naming the variable", (_name, env, expected) => {
    expect(problemsOf(env)).toEqual(expect.arrayContaining([expect.stringMatching(expected)]));
  });

  it("serves metrics and probes on a listener of their own, beyond loopback outside development mode", () => {
    expect(loadConfig(PRODUCTION).metrics).toEqual({ host: "0.0.0.0", port: 8094 });
    expect(loadConfig({ ...PRODUCTION, METRICS_HOST: "10.0.0.7", METRICS_PORT: "9464" }).metrics).toEqual({
      host: "10.0.0.7",
      port: 9464,
    });
    // Port 0 (an ephemeral port) never clashes.
    expect(problemsOf({ METRICS_PORT: "0", ADMIN_HTTP_PORT: "0" })).toEqual([]);
  });

  it.each([
    ["out of range", { METRICS_PORT: "65536" }, /^METRICS_PORT: expected an integer from 0 to 65535/],
    ["the admin listener's port", { METRICS_PORT: "8093" }, /^METRICS_PORT: must differ from/],
    ["the webhook's port", { WEBHOOK_PORT: "9000", METRICS_PORT: "9000" }, /^METRICS_PORT: must differ from/],
    ["the gRPC port", { METRICS_PORT: "50051" }, /^METRICS_PORT: must differ from/],
  ])("refuses a METRICS_PORT that is %s", (_name, env, expected) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(expected)]);
  });

  it("leaves shadow mode off unless SHADOW_WEBHOOK_URL is set, then reads its bounds", () => {
    expect(loadConfig({}).shadow).toBeUndefined();
    expect(loadConfig({ SHADOW_WEBHOOK_URL: "http://old-webhook:8080/v1/authenticate" }).shadow).toEqual({
      url: "http://old-webhook:8080/v1/authenticate",
      sample: 1,
      maxInFlight: 32,
      maxBytesInFlight: 16 * 1024 * 1024,
      timeoutMs: 2_000,
      answer: "self",
    });
    const shadow = loadConfig({
      SHADOW_WEBHOOK_URL: "https://old.example.com/v1/authenticate",
      SHADOW_SAMPLE: "0.25",
      SHADOW_MAX_IN_FLIGHT: "4",
      SHADOW_MAX_IN_FLIGHT_BYTES: "1048576",
      SHADOW_TIMEOUT_MS: "500",
      SHADOW_ANSWER: "shadow",
    }).shadow;
    expect(shadow).toEqual({
      url: "https://old.example.com/v1/authenticate",
      sample: 0.25,
      maxInFlight: 4,
      maxBytesInFlight: 1_048_576,
      timeoutMs: 500,
      answer: "shadow",
    });
    // Every request waits for the previous service then: the bound only stops a stalled one holding them all.
    expect(
      loadConfig({ SHADOW_WEBHOOK_URL: "http://old-webhook:8080/v1/authenticate", SHADOW_ANSWER: "shadow" })
        .shadow?.maxInFlight,
    ).toBe(512);
  });

  it.each([
    [{ SHADOW_WEBHOOK_URL: "old-webhook:8080" }, /^SHADOW_WEBHOOK_URL: expected an http\(s\) URL/],
    [{ SHADOW_WEBHOOK_URL: "ftp://old/v1/authenticate" }, /^SHADOW_WEBHOOK_URL: expected an http\(s\) URL/],
    [{ SHADOW_SAMPLE: "1.5" }, /^SHADOW_SAMPLE: expected a number from 0 to 1/],
    [{ SHADOW_MAX_IN_FLIGHT: "0" }, /^SHADOW_MAX_IN_FLIGHT: expected an integer from 1 to 10000/],
    [
      { SHADOW_MAX_IN_FLIGHT_BYTES: "1000" },
      /^SHADOW_MAX_IN_FLIGHT_BYTES: expected an integer from 65536 to 1073741824/,
    ],
    [{ SHADOW_TIMEOUT_MS: "fast" }, /^SHADOW_TIMEOUT_MS: expected an integer from 10 to 60000/],
    [{ SHADOW_ANSWER: "old" }, /^SHADOW_ANSWER: expected one of self, shadow/],
    [{ SHADOW_ANSWER: "shadow" }, /^SHADOW_ANSWER: shadow needs SHADOW_WEBHOOK_URL/],
  ])("refuses shadow settings %o", (env, expected) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(expected)]);
  });

  it("follows the journal, listens, and checks the checksum hourly unless SNAPSHOT_* say otherwise", () => {
    expect(loadConfig({}).snapshot).toEqual({
      refreshMs: 30_000,
      verifyMs: 3_600_000,
      maxLagMs: 2_000,
      maxStalenessMs: 300_000,
      sync: "journal",
      listen: true,
    });
    const set = loadConfig({ SNAPSHOT_VERIFY_S: "600", SNAPSHOT_SYNC: "full", SNAPSHOT_LISTEN: "false" });
    expect(set.snapshot).toMatchObject({ verifyMs: 600_000, sync: "full", listen: false });
    // SNAPSHOT_REFRESH_S keeps its meaning for what is still reloaded in full (SNAPSHOT_SYNC=full, metadata).
    expect(loadConfig({ SNAPSHOT_REFRESH_S: "5" }).snapshot).toMatchObject({
      refreshMs: 5_000,
      verifyMs: 3_600_000,
    });
    expect(
      problemsOf({ SNAPSHOT_SYNC: "sometimes", SNAPSHOT_VERIFY_S: "0" }).map((p) => p.split(":")[0]),
    ).toEqual(["SNAPSHOT_VERIFY_S", "SNAPSHOT_SYNC"]);
  });

  it("bounds websocket sessions to 600 s unless WEBSOCKET_SESSION_MAX_S says otherwise", () => {
    expect(loadConfig({}).webhook.websocketSessionMaxS).toBe(600);
    expect(loadConfig({ WEBSOCKET_SESSION_MAX_S: "60" }).webhook.websocketSessionMaxS).toBe(60);
  });

  it("bounds what a gRPC caller can hold open, by default and as the GRPC_* variables say", () => {
    expect(loadConfig({}).grpc).toMatchObject({
      maxWatchers: 100,
      maxConnections: 100,
      maxConcurrentStreams: 100,
      keepaliveTimeMs: 60_000,
      keepaliveTimeoutMs: 20_000,
      maxConnectionIdleMs: 300_000,
      maxConnectionAgeMs: 1_800_000,
      maxConnectionAgeGraceMs: 30_000,
    });
    const grpc = loadConfig({
      GRPC_MAX_WATCHERS: "0",
      GRPC_MAX_CONNECTIONS: "1000",
      GRPC_MAX_CONCURRENT_STREAMS: "16",
      GRPC_KEEPALIVE_TIME_S: "30",
      GRPC_KEEPALIVE_TIMEOUT_S: "5",
      GRPC_MAX_CONNECTION_IDLE_S: "1.5",
      GRPC_MAX_CONNECTION_AGE_S: "600",
      GRPC_MAX_CONNECTION_AGE_GRACE_S: "0",
    }).grpc;
    expect(grpc).toMatchObject({
      maxWatchers: 0,
      maxConnections: 1_000,
      maxConcurrentStreams: 16,
      keepaliveTimeMs: 30_000,
      keepaliveTimeoutMs: 5_000,
      maxConnectionIdleMs: 1_500,
      maxConnectionAgeMs: 600_000,
      maxConnectionAgeGraceMs: 0,
    });
  });

  it.each([
    [{ GRPC_MAX_WATCHERS: "-1" }, /^GRPC_MAX_WATCHERS: expected an integer from 0 to 100000/],
    [{ GRPC_MAX_WATCHERS: "ten" }, /^GRPC_MAX_WATCHERS: expected an integer/],
    [{ GRPC_MAX_CONNECTIONS: "0" }, /^GRPC_MAX_CONNECTIONS: expected an integer from 1/],
    [{ GRPC_MAX_CONCURRENT_STREAMS: "0" }, /^GRPC_MAX_CONCURRENT_STREAMS: expected an integer from 1/],
    [{ GRPC_KEEPALIVE_TIME_S: "0" }, /^GRPC_KEEPALIVE_TIME_S: expected a number from 1 to 86400/],
    [{ GRPC_KEEPALIVE_TIMEOUT_S: "forever" }, /^GRPC_KEEPALIVE_TIMEOUT_S: expected a number/],
    [{ GRPC_MAX_CONNECTION_IDLE_S: "0" }, /^GRPC_MAX_CONNECTION_IDLE_S: expected a number from 1/],
    [{ GRPC_MAX_CONNECTION_AGE_S: "1e9" }, /^GRPC_MAX_CONNECTION_AGE_S: expected a number from 1 to 604800/],
    [{ GRPC_MAX_CONNECTION_AGE_GRACE_S: "-5" }, /^GRPC_MAX_CONNECTION_AGE_GRACE_S: expected a number from 0/],
  ])("refuses %o", (env, expected) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(expected)]);
  });

  it("reports every bad variable at once", () => {
    const problems = problemsOf({ WEBHOOK_PORT: "x", GRPC_PORT: "-1", LOG_LEVEL: "loud" });
    expect(problems.map((problem) => problem.split(":")[0])).toEqual([
      "LOG_LEVEL",
      "WEBHOOK_PORT",
      "GRPC_PORT",
    ]);
  });

  it("never echoes a secret in a message", () => {
    const problems = problemsOf({
      ...PRODUCTION,
      ROLEMAPPER_API_TOKENS: "",
      AZURE_CLIENT_SECRET: "",
      GRPC_TLS_KEY: "hunter2-key",
    });
    expect(problems.join("\n")).not.toContain("hunter2");
  });

  it("refuses to serve the API without credentials outside development mode", () => {
    const env = { NODE_ENV: "production", JWKS_URL: "https://idp.example.com/keys" };
    expect(problemsOf(env)).toEqual([
      expect.stringMatching(/^ROLEMAPPER_API_TOKENS: the RoleMapping API needs credentials/),
    ]);
    expect(problemsOf({ ...env, ROLEMAPPER_API_INSECURE: "true" })).toEqual([]);
    expect(problemsOf({ ...env, ROLEMAPPER_API_TOKENS_FILE: "/run/secrets/tokens" })).toEqual([]);
  });

  describe("keys on an Entra authority host, which sign every tenant's tokens", () => {
    const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
    const ISSUER = `https://sts.windows.net/${TENANT}/`;
    const varsOf = (env: Record<string, string>) => problemsOf(env).map((problem) => problem.split(":")[0]);

    it.each([
      "https://login.microsoftonline.com/common/discovery/v2.0/keys",
      "https://login.microsoftonline.com/organizations/discovery/v2.0/keys",
      `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
      `https://login.microsoftonline.us/${TENANT}/discovery/v2.0/keys`,
      `https://login.partner.microsoftonline.cn/${TENANT}/discovery/v2.0/keys`,
      `https://login.chinacloudapi.cn/${TENANT}/discovery/v2.0/keys`,
    ])("refuses %s without an issuer or tenant and an audience, saying why", (jwksUrl) => {
      const problems = problemsOf({ ...PRODUCTION, JWKS_URL: jwksUrl });
      expect(problems).toEqual([
        expect.stringMatching(/^JWT_ISSUER: or AZURE_TENANT_ID is required: .*every tenant/),
        expect.stringMatching(/^JWT_AUDIENCE: is required: .*every tenant/),
      ]);
      expect(varsOf({ ...PRODUCTION, JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER })).toEqual(["JWT_AUDIENCE"]);
      expect(varsOf({ ...PRODUCTION, JWKS_URL: jwksUrl, JWT_AUDIENCE: "api://hasura" })).toEqual([
        "JWT_ISSUER",
      ]);
      expect(
        varsOf({ ...PRODUCTION, JWKS_URL: jwksUrl, JWT_ISSUER: ISSUER, JWT_AUDIENCE: "api://x" }),
      ).toEqual([]);
      // The tenant binds tokens whatever the group provider: here groups come from the token's claims.
      const env = { ...PRODUCTION, JWKS_URL: jwksUrl, AZURE_TENANT_ID: TENANT, JWT_AUDIENCE: "api://x" };
      expect(loadConfig(env).identity.azureTenantId).toBe(TENANT);
      expect(loadConfig(env).groups.provider).toBe("claims");
    });

    it("counts the host of AZURE_AUTHORITY_HOST as an Entra authority", () => {
      const env = {
        ...PRODUCTION,
        AZURE_AUTHORITY_HOST: "https://login.sovereign.example",
        JWKS_URL: `https://login.sovereign.example/${TENANT}/discovery/v2.0/keys`,
      };
      expect(varsOf(env)).toEqual(["JWT_ISSUER", "JWT_AUDIENCE"]);
      expect(varsOf({ ...env, JWKS_URL: "https://idp.example.com/keys" })).toEqual([]);
    });

    it("refuses JWT_OPTIONS that turn off the issuer or audience check the keys need", () => {
      const env = {
        ...PRODUCTION,
        JWKS_URL: `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`,
        JWT_ISSUER: ISSUER,
        JWT_AUDIENCE: "api://hasura",
      };
      expect(problemsOf({ ...env, JWT_OPTIONS: '{"verify_iss": false, "verify_aud": false}' })).toEqual([
        expect.stringMatching(
          /^JWT_ISSUER: or AZURE_TENANT_ID is required \(JWT_OPTIONS turns verify_iss off\)/,
        ),
        expect.stringMatching(/^JWT_AUDIENCE: is required \(JWT_OPTIONS turns verify_aud off\)/),
      ]);
      // The tenant check does not depend on verify_iss.
      const tenantBound = { ...env, AZURE_TENANT_ID: TENANT, JWT_OPTIONS: '{"verify_iss": false}' };
      expect(problemsOf(tenantBound)).toEqual([]);
    });

    it("checks AZURE_TENANT_ID without the Azure group provider too", () => {
      expect(problemsOf({ AZURE_TENANT_ID: "contoso.com" })).toEqual([
        expect.stringMatching(/^AZURE_TENANT_ID: expected the tenant GUID/),
      ]);
      expect(loadConfig({}).identity.azureTenantId).toBeUndefined();
    });
  });

  it("reads USER_CLAIM_FORMAT (email unless any is chosen) and JWT_MAX_TOKEN_LIFETIME_S", () => {
    expect(loadConfig({}).identity).toMatchObject({ userClaimFormat: "email", maxTokenLifetimeS: 86_400 });
    const config = loadConfig({ USER_CLAIM_FORMAT: "any", JWT_MAX_TOKEN_LIFETIME_S: "3600" });
    expect(config.identity).toMatchObject({ userClaimFormat: "any", maxTokenLifetimeS: 3600 });
    expect(problemsOf({ USER_CLAIM_FORMAT: "upn", JWT_MAX_TOKEN_LIFETIME_S: "0" })).toEqual([
      'USER_CLAIM_FORMAT: expected one of email, any (got "upn")',
      // Its name holds TOKEN, so its value is never echoed, as for every credential-like variable.
      "JWT_MAX_TOKEN_LIFETIME_S: expected an integer from 60 to 31536000",
    ]);
  });

  it("chooses the store from what is set", () => {
    expect(loadConfig({ DATABASE_URL: "postgres://db/x" }).store).toMatchObject({
      kind: "postgres",
      migrate: false,
    });
    expect(loadConfig({ DATABASE_URL: "postgres://db/x", ROLEMAPPING_MIGRATE: "true" }).store.migrate).toBe(
      true,
    );
  });

  it("reads USER_CLAIM, JWT_AUDIENCE and JWT_ISSUER as a string or a JSON list", () => {
    const config = loadConfig({
      USER_CLAIM: '["unique_name","upn"]',
      JWT_AUDIENCE: "api://one",
      JWT_ISSUER: '["a","b"]',
    });
    expect(config.identity.userClaims).toEqual(["unique_name", "upn"]);
    expect(config.identity.audience).toEqual(["api://one"]);
    expect(config.identity.issuer).toEqual(["a", "b"]);
  });
});

describe("RESERVED_ROLE_IDS", () => {
  it.each([
    { name: "unset: admin only", value: undefined, expected: ["admin"] },
    { name: "an empty list: admin only", value: "[]", expected: ["admin"] },
    {
      name: "extra ids, admin added",
      value: '["anonymous","public"]',
      expected: ["admin", "anonymous", "public"],
    },
    { name: "admin listed too: once", value: '["anonymous","admin"]', expected: ["admin", "anonymous"] },
    // Compared exactly as Hasura compares role names: Admin is another role, kept as given.
    { name: "case kept as given", value: '["Admin"]', expected: ["admin", "Admin"] },
  ])("$name", ({ value, expected }) => {
    const config = loadConfig(value === undefined ? {} : { RESERVED_ROLE_IDS: value });
    expect(config.reservedRoleIds).toEqual(expected);
    expect(Object.isFrozen(config.reservedRoleIds)).toBe(true);
  });
});

const HASURA = { GRAPHQL_URL: "http://127.0.0.1:8080/v1/graphql", GRAPHQL_ADMIN_SECRET: "s3cret-admin" };

describe("COMBINED_ROLES and its variables", () => {
  it("is off by default, whatever the store", () => {
    expect(loadConfig({}).combinedRoles).toBeUndefined();
    expect(loadConfig(HASURA).combinedRoles).toBeUndefined();
  });

  it("holds the idle period to the refresh period only when combined roles are on", () => {
    const idle = { ...HASURA, COMBINED_ROLE_IDLE_S: "3900", SNAPSHOT_REFRESH_S: "3600" };
    expect(problemsOf(idle)).toEqual([]);
    const on = { ...HASURA, COMBINED_ROLES: "hasura", SNAPSHOT_REFRESH_S: "3600" };
    expect(loadConfig({ ...on, COMBINED_ROLE_IDLE_S: "3901" }).combinedRoles?.idleMs).toBe(3_901_000);
  });

  it("with hasura, defaults the metadata URL to GRAPHQL_URL's origin and reads the bounds", () => {
    expect(loadConfig({ ...HASURA, COMBINED_ROLES: "hasura" }).combinedRoles).toEqual({
      maxParents: 8,
      maxRoles: 1000,
      prefix: "rolemapper_combined_",
      createTimeoutMs: 5000,
      metadataUrl: "http://127.0.0.1:8080/v1/metadata",
      adminSecret: "s3cret-admin",
      idleMs: 604_800_000,
    });
    const config = loadConfig({
      COMBINED_ROLES: "hasura",
      HASURA_METADATA_URL: "http://hasura:8080/v1/metadata",
      GRAPHQL_ADMIN_SECRET: "s3cret-admin",
      COMBINED_ROLE_MAX_PARENTS: "3",
      COMBINED_ROLE_MAX: "50",
      COMBINED_ROLE_PREFIX: "rm_",
      COMBINED_ROLE_CREATE_TIMEOUT_MS: "250",
      COMBINED_ROLE_IDLE_S: "0",
    });
    // The embedded store with the metadata API given on its own.
    expect(config.store.kind).toBe("embedded");
    expect(config.combinedRoles).toEqual({
      maxParents: 3,
      maxRoles: 50,
      prefix: "rm_",
      createTimeoutMs: 250,
      metadataUrl: "http://hasura:8080/v1/metadata",
      adminSecret: "s3cret-admin",
      idleMs: 0,
    });
  });

  it.each([
    [{ COMBINED_ROLES: "on" }, /^COMBINED_ROLES: expected one of off, hasura \(got "on"\)/],
    [
      { COMBINED_ROLES: "hasura", GRAPHQL_ADMIN_SECRET: "s3cret-admin" },
      /^HASURA_METADATA_URL: or GRAPHQL_URL is required with COMBINED_ROLES=hasura/,
    ],
    [
      { COMBINED_ROLES: "hasura", HASURA_METADATA_URL: "http://hasura:8080/v1/metadata" },
      /^GRAPHQL_ADMIN_SECRET: required with COMBINED_ROLES=hasura/,
    ],
    [
      { ...HASURA, COMBINED_ROLE_MAX_PARENTS: "1" },
      /^COMBINED_ROLE_MAX_PARENTS: expected an integer from 2 to 32/,
    ],
    [{ ...HASURA, COMBINED_ROLE_MAX: "0" }, /^COMBINED_ROLE_MAX: expected an integer from 1 to 100000/],
    [{ ...HASURA, COMBINED_ROLE_PREFIX: "9 bad" }, /^COMBINED_ROLE_PREFIX: expected a letter or _/],
    [
      { ...HASURA, COMBINED_ROLE_CREATE_TIMEOUT_MS: "5" },
      /^COMBINED_ROLE_CREATE_TIMEOUT_MS: expected an integer/,
    ],
    [{ ...HASURA, HASURA_METADATA_URL: "ftp://x" }, /^HASURA_METADATA_URL: expected an http\(s\) URL/],
    [
      { ...HASURA, COMBINED_ROLE_IDLE_S: "60" },
      /^COMBINED_ROLE_IDLE_S: expected 0 \(keep them\) or 3600 to 31536000 seconds \(got "60"\)/,
    ],
    [
      { ...HASURA, COMBINED_ROLES: "hasura", COMBINED_ROLE_IDLE_S: "3900", SNAPSHOT_REFRESH_S: "3600" },
      /^COMBINED_ROLE_IDLE_S: expected 0 \(keep them\) or more than 3900 seconds: the trust margin \(300 s\) plus SNAPSHOT_REFRESH_S \(3600 s\) \(got "3900"\)/,
    ],
    [
      { ...HASURA, COMBINED_ROLE_IDLE_S: "7d" },
      /^COMBINED_ROLE_IDLE_S: expected an integer from 0 to 31536000/,
    ],
  ])("refuses %j", (env, message) => {
    expect(problemsOf(env)).toEqual([expect.stringMatching(message)]);
  });
});
