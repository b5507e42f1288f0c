import { describe, expect, it } from "vitest";
import { DeadlineExceededError, UnavailableError } from "../../src/core/errors.js";
import { adminServer } from "./admin-fixture.js";

const TOKEN = "rest-provisioner-token-0123";
const LIMITS = { maxSubjects: 5, maxRootFields: 3, maxPageSize: 50 };

const admin = adminServer({ tokens: `provisioner:${TOKEN}`, limits: LIMITS, bodyLimitBytes: 64 * 1024 });

/** Sends a request with the provisioner's token (unless `token` is null) and returns status and parsed body. */
async function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(admin.base + path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : (JSON.parse(text) as unknown) };
}

describe("REST RoleMapping routes (the existing provisioner's contract)", () => {
  it("PUT /v1/roles answers the role as stored; GET answers {role_id, component_id}", async () => {
    expect(
      await call("PUT", "/v1/roles", {
        role_id: "dom1.dp1.0.op.readrole",
        component_id: "urn:dmb:cmp:dom1:dp1:0:op",
        graphql_root_field_names: ["dom1_dp1_0_op1_select", "dom1_dp1_0_op1_aggregate"],
      }),
    ).toEqual({
      status: 200,
      body: {
        role_id: "dom1.dp1.0.op.readrole",
        component_id: "urn:dmb:cmp:dom1:dp1:0:op",
        graphql_root_field_names: ["dom1_dp1_0_op1_aggregate", "dom1_dp1_0_op1_select"],
      },
    });
    expect(await call("GET", "/v1/roles/dom1.dp1.0.op.readrole")).toEqual({
      status: 200,
      body: { role_id: "dom1.dp1.0.op.readrole", component_id: "urn:dmb:cmp:dom1:dp1:0:op" },
    });
    expect(
      await call("GET", `/v1/roles/component_id/${encodeURIComponent("urn:dmb:cmp:dom1:dp1:0:op")}`),
    ).toEqual({
      status: 200,
      body: { role_id: "dom1.dp1.0.op.readrole", component_id: "urn:dmb:cmp:dom1:dp1:0:op" },
    });
  });

  it("PUT /v1/user_roles and /v1/group_roles replace the holders and answer the mapping as stored", async () => {
    const roleId = "dom1.dp1.0.op.readrole";
    await call("PUT", "/v1/user_roles", { role_id: roleId, users: ["user:user1", "user:user2"] });
    expect(
      await call("PUT", "/v1/user_roles", { role_id: roleId, users: ["user:user2", "user:user3"] }),
    ).toEqual({
      status: 200,
      body: { role_id: roleId, users: ["user:user2", "user:user3"] },
    });
    expect(await call("PUT", "/v1/group_roles", { role_id: roleId, groups: ["group:group1"] })).toEqual({
      status: 200,
      body: { role_id: roleId, groups: ["group:group1"] },
    });
    expect(await admin.fixture.service.listSubjectRoles("user:user1")).toEqual([]);
    expect(await admin.fixture.service.listSubjectRoles("user:user3")).toEqual([roleId]);
  });

  it("404 with a JSON string for a missing role or component", async () => {
    expect(await call("GET", "/v1/roles/nope")).toEqual({
      status: 404,
      body: "Role not found for role_id nope",
    });
    expect(await call("GET", "/v1/roles/component_id/urn:x")).toEqual({
      status: 404,
      body: "Role not found for component_id urn:x",
    });
  });

  it('400 {"errors": [...]} when granting a role that does not exist', async () => {
    const users = await call("PUT", "/v1/user_roles", { role_id: "missing", users: ["user:a"] });
    expect(users.status).toBe(400);
    expect(users.body).toEqual({ errors: [expect.stringMatching(/^role_id: .*missing.*not found/)] });
    const groups = await call("PUT", "/v1/group_roles", { role_id: "missing", groups: [] });
    expect(groups.status).toBe(400);
    expect(groups.body).toEqual({ errors: [expect.any(String)] });
  });

  it('400 {"errors": [...]} on a role_id or component_id clash, saying which', async () => {
    await call("PUT", "/v1/roles", { role_id: "r.b", component_id: "urn:b", graphql_root_field_names: [] });
    const byRole = await call("PUT", "/v1/roles", {
      role_id: "dom1.dp1.0.op.readrole",
      component_id: "urn:other",
      graphql_root_field_names: [],
    });
    expect(byRole).toEqual({ status: 400, body: { errors: [expect.stringMatching(/^role_id: /)] } });
    const byComponent = await call("PUT", "/v1/roles", {
      role_id: "r.c",
      component_id: "urn:b",
      graphql_root_field_names: [],
    });
    expect(byComponent).toEqual({
      status: 400,
      body: { errors: [expect.stringMatching(/^component_id: /)] },
    });
  });

  it('400 {"errors": [...]} for Hasura\'s admin role in every write, and nothing stored', async () => {
    const reserved =
      /^role_id: "admin" is a reserved role id: it is Hasura's admin role, which bypasses every/;
    const writes: [string, object][] = [
      ["/v1/roles", { role_id: "admin", component_id: "urn:admin", graphql_root_field_names: ["orders"] }],
      ["/v1/user_roles", { role_id: "admin", users: ["user:mallory"] }],
      ["/v1/group_roles", { role_id: "admin", groups: ["group:ops"] }],
    ];
    for (const [path, body] of writes) {
      expect(await call("PUT", path, body), path).toEqual({
        status: 400,
        body: { errors: [expect.stringMatching(reserved)] },
      });
    }
    expect((await call("GET", "/v1/roles/admin")).status).toBe(404);
    expect((await call("GET", "/v1/roles/component_id/urn:admin")).status).toBe(404);
    // Role names are case-sensitive in Hasura: Admin is an ordinary role.
    const admin = { role_id: "Admin", component_id: "urn:Admin", graphql_root_field_names: ["audit"] };
    expect((await call("PUT", "/v1/roles", admin)).status).toBe(200);
    expect((await call("PUT", "/v1/user_roles", { role_id: "Admin", users: ["user:a"] })).status).toBe(200);
  });

  it('400 {"errors": [...]} naming missing fields, bad values and malformed JSON', async () => {
    expect(await call("PUT", "/v1/roles", { role_id: "x" })).toEqual({
      status: 400,
      body: { errors: ["component_id, graphql_root_field_names: required fields missing"] },
    });
    expect(await call("PUT", "/v1/user_roles", { users: [] })).toEqual({
      status: 400,
      body: { errors: ["role_id: required field missing"] },
    });
    expect(await call("PUT", "/v1/roles", "{not json")).toEqual({
      status: 400,
      body: { errors: ["request body is not valid JSON"] },
    });
    expect(await call("PUT", "/v1/roles", [1, 2])).toEqual({
      status: 400,
      body: { errors: ["body: expected a JSON object"] },
    });
    const cases: [string, object, string][] = [
      ["/v1/roles", { role_id: "", component_id: "c", graphql_root_field_names: [] }, "role_id"],
      ["/v1/roles", { role_id: "x".repeat(256), component_id: "c", graphql_root_field_names: [] }, "role_id"],
      ["/v1/roles", { role_id: "a", component_id: 7, graphql_root_field_names: [] }, "component_id"],
      [
        "/v1/roles",
        { role_id: "a", component_id: "c", graphql_root_field_names: "f" },
        "graphql_root_field_names",
      ],
      ["/v1/user_roles", { role_id: "dom1.dp1.0.op.readrole", users: ["alice"] }, "users[0]"],
      ["/v1/user_roles", { role_id: "dom1.dp1.0.op.readrole", users: ["user:a", "user:a"] }, "users[1]"],
      [
        "/v1/user_roles",
        {
          role_id: "dom1.dp1.0.op.readrole",
          users: ["user:1", "user:2", "user:3", "user:4", "user:5", "user:6"],
        },
        "users",
      ],
      ["/v1/group_roles", { role_id: "dom1.dp1.0.op.readrole", groups: ["user:a"] }, "groups[0]"],
    ];
    for (const [path, body, field] of cases) {
      const result = await call("PUT", path, body);
      expect(result.status, field).toBe(400);
      expect(
        (result.body as { errors: string[] }).errors[0]?.startsWith(`${field}:`),
        JSON.stringify(result),
      ).toBe(true);
    }
    expect((await call("GET", `/v1/roles/${"x".repeat(256)}`)).status).toBe(400);
  });

  it("413 for a body over the configured bound", async () => {
    const users = Array.from({ length: 5000 }, (_, i) => `user:someone-with-a-long-name-${i}`);
    expect(await call("PUT", "/v1/user_roles", { role_id: "dom1.dp1.0.op.readrole", users })).toEqual({
      status: 413,
      body: { errors: ["request body too large"] },
    });
  });

  it("DELETE /v1/roles/{role_id} removes the role with its grants; 404 when there is none", async () => {
    await call("PUT", "/v1/roles", {
      role_id: "del.me",
      component_id: "urn:del",
      graphql_root_field_names: ["f"],
    });
    await call("PUT", "/v1/user_roles", { role_id: "del.me", users: ["user:gone"] });
    expect(await call("DELETE", "/v1/roles/del.me")).toEqual({ status: 204, body: undefined });
    expect((await call("GET", "/v1/roles/del.me")).status).toBe(404);
    expect(await admin.fixture.service.listSubjectRoles("user:gone")).toEqual([]);
    expect(await call("DELETE", "/v1/roles/del.me")).toEqual({
      status: 404,
      body: "Role not found for role_id del.me",
    });
  });

  it('GET /v1/health answers "Alive" without credentials', async () => {
    expect(await call("GET", "/v1/health", undefined, null)).toEqual({ status: 200, body: "Alive" });
  });

  it('answers unexpected failures with 500 {"error": "System error"}, store outages with 503/504', async () => {
    try {
      admin.fixture.fail(new TypeError("secret internals"));
      expect(await call("GET", "/v1/roles/dom1.dp1.0.op.readrole")).toEqual({
        status: 500,
        body: { error: "System error" },
      });
      expect(admin.fixture.log.text()).toContain("secret internals");
      admin.fixture.fail(new UnavailableError("role mapping store unreachable"));
      expect(await call("PUT", "/v1/user_roles", { role_id: "dom1.dp1.0.op.readrole", users: [] })).toEqual({
        status: 503,
        body: { error: "role mapping store unreachable" },
      });
      admin.fixture.fail(new DeadlineExceededError("store too slow"));
      expect((await call("GET", "/v1/roles/dom1.dp1.0.op.readrole")).status).toBe(504);
    } finally {
      admin.fixture.fail(undefined);
    }
  });

  it("serves its OpenAPI 3 document, listing every route", async () => {
    const { status, body } = await call("GET", "/v1/openapi.json", undefined, null);
    expect(status).toBe(200);
    const document = body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toMatch(/^3\./);
    const routes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(routes.sort()).toEqual([
      "DELETE /v1/roles/{role_id}",
      "GET /v1/health",
      "GET /v1/openapi.json",
      "GET /v1/role_grants/{role_id}",
      "GET /v1/roles",
      "GET /v1/roles/component_id/{component_id}",
      "GET /v1/roles/{role_id}",
      "GET /v1/subject_roles/{subject}",
      "POST /v1/explain_decision",
      "PUT /v1/group_roles",
      "PUT /v1/roles",
      "PUT /v1/user_roles",
    ]);
  });
});
