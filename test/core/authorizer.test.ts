import { describe, expect, it } from "vitest";
import { Authorizer, type AuthorizeInput, type AuthorizerDeps } from "../../src/core/authorizer.js";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../../src/core/errors.js";
import { OperationError } from "../../src/core/operation.js";
import type { Snapshot } from "../../src/core/snapshot.js";
import { StubGroups, StubVerifier, groupsUnreachable } from "../support/stub-identity.js";
import { authorizerDeps } from "./authorizer-fixture.js";
import { snapshotOf } from "./fixtures.js";

const snapshot = snapshotOf(
  { r_orders: ["orders"], r_customers: ["customers"], r_both: ["orders", "customers"] },
  {
    "user:alice_corp.com": ["r_orders"],
    "group:Analysts": ["r_customers"],
    "user:carol_corp.com": ["r_orders", "r_both"],
  },
);

const TOKENS = {
  alice: { unique_name: "alice@corp.com" },
  bob: { unique_name: "bob@corp.com", groups: ["Analysts"] },
  carol: { unique_name: "carol@corp.com" },
  nobody: { unique_name: "nobody@corp.com" },
  mallory: { unique_name: "mallory@corp.com", groups: ["ops"] },
  eve: { unique_name: "eve@corp.com" },
  anonymous: { sub: "123" },
};

function setup(over: Partial<AuthorizerDeps> = {}) {
  const verifier = new StubVerifier(TOKENS);
  const groups = new StubGroups();
  const authorizer = new Authorizer(authorizerDeps({ verifier, groups, snapshot: () => snapshot, ...over }));
  return { authorizer, verifier, groups };
}

function input(
  headers: Record<string, string>,
  request: AuthorizeInput["request"] = one("{ orders { id } }"),
): AuthorizeInput {
  // The webhook body parser hands the core lower-cased header names.
  return { headers: new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])), request };
}

function one(query: string, operationName?: string) {
  return { query, operationName };
}

describe("Authorizer.authorize: the bearer token", () => {
  it.each([["Bearer alice"], ["bearer alice"], ["BEARER alice"], ["Bearer   alice"], ["Bearer\talice "]])(
    "accepts the scheme in any case and spacing: %j",
    async (value) => {
      const { authorizer, verifier } = setup();
      const result = await authorizer.authorize(input({ Authorization: value }));
      expect(result).toMatchObject({ outcome: "allow", role: "r_orders", user: "user:alice_corp.com" });
      expect(verifier.seen).toEqual(["alice"]);
    },
  );

  it.each([
    ["Basic YWxpY2U6c2VjcmV0", "token_bad_scheme"],
    ["alice", "token_bad_scheme"],
    ["Bearer", "token_bad_scheme"],
    ["Bearer ", "token_bad_scheme"],
    ["Bearer alice bob", "token_bad_scheme"],
    ["Bearer stranger", "token_invalid"],
  ])("denies %j as %s without verifying anything else", async (value, reason) => {
    const { authorizer } = setup();
    const result = await authorizer.authorize(input({ Authorization: value }));
    expect(result).toMatchObject({
      outcome: "deny",
      reason,
      role: undefined,
      user: undefined,
      rootFields: [],
    });
  });

  it("denies a request with no token header as token_missing", async () => {
    const { authorizer, verifier } = setup();
    const result = await authorizer.authorize(input({ "Content-Type": "application/json" }));
    expect(result).toMatchObject({ outcome: "deny", reason: "token_missing" });
    expect(verifier.seen).toEqual([]);
  });

  it("finds configured header names whatever their case", async () => {
    const { authorizer } = setup({ tokenHeaders: ["X-Access-Token"] });
    const result = await authorizer.authorize(input({ "x-ACCESS-token": "Bearer alice" }));
    expect(result.outcome).toBe("allow");
  });

  it("takes the token from the first configured header present", async () => {
    const { authorizer, verifier } = setup({ tokenHeaders: ["X-Access-Token", "Authorization"] });
    await authorizer.authorize(input({ Authorization: "Bearer carol", "X-Access-Token": "Bearer alice" }));
    await authorizer.authorize(input({ Authorization: "Bearer carol" }));
    expect(verifier.seen).toEqual(["alice", "carol"]);
  });

  it("does not fall back to a later header when the first present one is malformed", async () => {
    const { authorizer, verifier } = setup({ tokenHeaders: ["X-Access-Token", "Authorization"] });
    const result = await authorizer.authorize(
      input({ "X-Access-Token": "Basic x", Authorization: "Bearer alice" }),
    );
    expect(result).toMatchObject({ outcome: "deny", reason: "token_bad_scheme" });
    expect(verifier.seen).toEqual([]);
  });

  it("denies a verified token without the user claim", async () => {
    const { authorizer } = setup();
    const result = await authorizer.authorize(input({ Authorization: "Bearer anonymous" }));
    expect(result).toMatchObject({ outcome: "deny", reason: "user_claim_missing" });
  });
});

describe("Authorizer.authorize: failures fail closed", () => {
  it("fails (never allows) when the group provider fails, even for a user holding the role directly", async () => {
    const { authorizer, groups } = setup();
    groups.failWith = groupsUnreachable();
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }));
    expect(result).toMatchObject({
      outcome: "fail",
      reason: "unavailable",
      role: undefined,
      user: "user:alice_corp.com",
    });
    expect(result.error).toBeInstanceOf(UnavailableError);
  });

  it("fails as internal on an unexpected error, keeping the error for the log", async () => {
    const { authorizer, groups } = setup();
    groups.failWith = new TypeError("boom");
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }));
    expect(result).toMatchObject({ outcome: "fail", reason: "internal" });
    expect(result.error).toBeInstanceOf(TypeError);
  });

  it("fails when the keys cannot be fetched", async () => {
    const { authorizer, verifier } = setup();
    verifier.failWith = new UnavailableError("JWKS unreachable");
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }));
    expect(result).toMatchObject({ outcome: "fail", reason: "unavailable" });
  });

  it("fails when the snapshot is too stale to trust", async () => {
    const { authorizer } = setup({
      snapshot: (): Snapshot => {
        throw new UnavailableError("role mappings are stale");
      },
    });
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }));
    expect(result).toMatchObject({ outcome: "fail", reason: "unavailable" });
    expect(result.error).toBeInstanceOf(UnavailableError);
  });

  it("fails with the OperationError when the query does not parse", async () => {
    const { authorizer } = setup();
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }, one("{ orders")));
    expect(result).toMatchObject({ outcome: "fail", reason: "invalid_argument", rootFields: [] });
    expect(result.error).toBeInstanceOf(OperationError);
  });

  it("fails a batch over the bound as invalid", async () => {
    const { authorizer } = setup({ maxBatch: 2 });
    const batch = [one("{ orders { id } }"), one("{ orders { id } }"), one("{ orders { id } }")];
    const result = await authorizer.authorize(input({ Authorization: "Bearer alice" }, batch));
    expect(result).toMatchObject({ outcome: "fail", reason: "invalid_argument" });
    expect(result.error).toBeInstanceOf(InvalidArgumentError);
  });
});

describe("Authorizer.authorize: decisions", () => {
  it("allows with everything the audit log records", async () => {
    const { authorizer } = setup();
    const result = await authorizer.authorize(
      input({ Authorization: "Bearer bob" }, one("query Q { a: customers { id } __typename }", "Q")),
    );
    expect(result).toEqual({
      outcome: "allow",
      role: "r_customers",
      user: "user:bob_corp.com",
      groupCount: 1,
      operationType: "query",
      operationName: "Q",
      rootFields: ["customers"],
      reason: "allowed",
    });
  });

  it.each([
    {
      name: "a role via a group",
      token: "bob",
      request: one("{ customers { id } }"),
      expected: { outcome: "allow", role: "r_customers" },
    },
    {
      name: "no role held",
      token: "nobody",
      request: one("{ orders { id } }"),
      expected: { outcome: "deny", reason: "no_roles" },
    },
    {
      name: "a field of another role",
      token: "alice",
      request: one("{ customers { id } }"),
      expected: { outcome: "deny", reason: "no_role_for_fields" },
    },
    {
      name: "a mutation",
      token: "alice",
      request: one("mutation { orders { id } }"),
      expected: { outcome: "deny", reason: "mutation", operationType: "mutation" },
    },
    {
      name: "introspection",
      token: "alice",
      request: one("{ __schema { types { name } } }"),
      expected: { outcome: "deny", reason: "introspection" },
    },
    {
      name: "a batch needing one role for both",
      token: "carol",
      request: [one("{ orders { id } }"), one("{ customers { id } }")],
      expected: { outcome: "allow", role: "r_both", operationType: "batch", operationName: undefined },
    },
    {
      name: "connection_init with one role",
      token: "alice",
      request: null,
      expected: { outcome: "allow", role: "r_orders", operationType: undefined },
    },
    {
      name: "connection_init with two roles",
      token: "carol",
      request: null,
      expected: { outcome: "deny", reason: "role_required" },
    },
  ])("$name", async ({ token, request, expected }) => {
    const { authorizer } = setup();
    expect(await authorizer.authorize(input({ Authorization: `Bearer ${token}` }, request))).toMatchObject(
      expected,
    );
  });

  it("honours X-Hasura-Role, whatever the header's case", async () => {
    const { authorizer } = setup();
    const asked = await authorizer.authorize(
      input({ Authorization: "Bearer carol", "x-hasura-ROLE": "r_orders" }),
    );
    expect(asked).toMatchObject({ outcome: "allow", role: "r_orders" });
    const unheld = await authorizer.authorize(
      input({ Authorization: "Bearer carol", "X-Hasura-Role": "r_customers" }),
    );
    expect(unheld).toMatchObject({ outcome: "deny", reason: "role_not_held" });
    const ws = await authorizer.authorize(
      input({ Authorization: "Bearer carol", "X-Hasura-Role": "r_both" }, null),
    );
    expect(ws).toMatchObject({ outcome: "allow", role: "r_both" });
  });

  it("allows introspection when configured", async () => {
    const { authorizer } = setup({ allowIntrospection: true });
    const result = await authorizer.authorize(
      input({ Authorization: "Bearer alice" }, one('{ __type(name: "x") { name } }')),
    );
    expect(result).toMatchObject({ outcome: "allow", role: "r_orders", rootFields: [] });
  });
});

describe("Authorizer.explain", () => {
  it("explains for a token, with held and candidate roles", async () => {
    const { authorizer } = setup();
    const explanation = await authorizer.explain({ token: "carol", query: "{ orders { id } }" });
    expect(explanation).toEqual({
      allowed: true,
      role: "r_both",
      reason: "allowed",
      user: "user:carol_corp.com",
      groups: [],
      rootFields: ["orders"],
      heldRoles: ["r_both", "r_orders"],
      candidateRoles: ["r_both", "r_orders"],
      reservedRoles: [],
      groupPins: [],
    });
  });

  it("explains for a user and groups given directly, with a requested role", async () => {
    const { authorizer } = setup();
    const explanation = await authorizer.explain({
      user: "user:dave",
      groups: ["group:Analysts"],
      query: "query A { orders { id } } query B { customers { id } }",
      operationName: "A",
      requestedRole: "r_customers",
    });
    expect(explanation).toMatchObject({
      allowed: false,
      reason: "role_not_allowed_for_fields",
      heldRoles: ["r_customers"],
      candidateRoles: ["r_both", "r_orders"],
    });
  });

  it.each([
    { name: "neither token nor user", given: {}, field: "user" },
    { name: "a user without its prefix", given: { user: "dave" }, field: "user[0]" },
    {
      name: "a group without its prefix",
      given: { user: "user:dave", groups: ["Analysts"] },
      field: "groups[0]",
    },
  ])("refuses $name, naming the field", async ({ given, field }) => {
    const { authorizer } = setup();
    const error = await authorizer.explain({ ...given, query: "{ orders { id } }" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
  });

  it("rejects a bad token instead of explaining", async () => {
    const { authorizer } = setup();
    await expect(
      authorizer.explain({ token: "stranger", query: "{ orders { id } }" }),
    ).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it("rejects a query that does not parse", async () => {
    const { authorizer } = setup();
    await expect(authorizer.explain({ user: "user:dave", query: "{" })).rejects.toBeInstanceOf(
      OperationError,
    );
  });
});

describe("Authorizer and Hasura's admin role held in the store", () => {
  // As rows written with SQL could leave them: mallory holds only admin (directly and through ops), eve also
  // holds r_orders. admin is mapped to the very fields asked for, so only its reservation keeps it out.
  const withAdmin = () =>
    snapshotOf(
      { admin: ["orders", "customers"], r_orders: ["orders"], Admin: ["customers"] },
      {
        "user:mallory_corp.com": ["admin"],
        "group:ops": ["admin"],
        "user:eve_corp.com": ["admin", "r_orders"],
      },
    );

  it.each([
    {
      who: "mallory",
      role: undefined,
      request: one("{ orders { id } }"),
      expected: ["deny", "reserved_role"],
    },
    { who: "mallory", role: "admin", request: one("{ orders { id } }"), expected: ["deny", "reserved_role"] },
    { who: "mallory", role: undefined, request: null, expected: ["deny", "reserved_role"] },
    { who: "mallory", role: "admin", request: null, expected: ["deny", "reserved_role"] },
    { who: "eve", role: undefined, request: one("{ orders { id } }"), expected: ["allow", "allowed"] },
    { who: "eve", role: "admin", request: one("{ orders { id } }"), expected: ["deny", "reserved_role"] },
    {
      who: "eve",
      role: undefined,
      request: one("{ customers { id } }"),
      expected: ["deny", "no_role_for_fields"],
    },
    { who: "eve", role: "Admin", request: one("{ customers { id } }"), expected: ["deny", "role_not_held"] },
    { who: "eve", role: undefined, request: null, expected: ["allow", "allowed"] },
  ])("$who asking $role for $request.query → $expected", async ({ who, role, request, expected }) => {
    const snapshot = withAdmin();
    const { authorizer } = setup({ snapshot: () => snapshot });
    const headers: Record<string, string> = { Authorization: `Bearer ${who}` };
    if (role !== undefined) headers["X-Hasura-Role"] = role;
    const result = await authorizer.authorize(input(headers, request));
    expect([result.outcome, result.reason]).toEqual(expected);
    if (result.outcome === "allow") expect(result.role).toBe("r_orders");
  });

  it("follows a cleanup of the reserved rows for a warm caller", async () => {
    const snapshot = withAdmin();
    const { authorizer } = setup({ snapshot: () => snapshot });
    const ask = () => authorizer.authorize(input({ Authorization: "Bearer mallory" }));
    expect(await ask()).toMatchObject({ outcome: "deny", reason: "reserved_role" });
    snapshot.deleteRole("admin");
    expect(await ask()).toMatchObject({ outcome: "deny", reason: "no_roles" });
  });

  it("explains: reserved roles held in the store are listed apart, never held nor candidates", async () => {
    const snapshot = withAdmin();
    const { authorizer } = setup({ snapshot: () => snapshot });
    expect(await authorizer.explain({ token: "mallory", query: "{ orders { id } }" })).toEqual({
      allowed: false,
      role: undefined,
      reason: "reserved_role",
      user: "user:mallory_corp.com",
      groups: ["group:ops"],
      rootFields: [],
      heldRoles: [],
      candidateRoles: [],
      reservedRoles: ["admin"],
      groupPins: [],
    });
    expect(
      await authorizer.explain({
        user: "user:eve_corp.com",
        query: "{ orders { id } }",
        requestedRole: "admin",
      }),
    ).toMatchObject({
      allowed: false,
      reason: "reserved_role",
      heldRoles: ["r_orders"],
      reservedRoles: ["admin"],
    });
    expect(await authorizer.explain({ token: "eve", query: "{ orders { id } }" })).toMatchObject({
      allowed: true,
      role: "r_orders",
      candidateRoles: ["r_orders"],
      reservedRoles: ["admin"],
    });
  });
});
