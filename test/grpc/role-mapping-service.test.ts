import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeadlineExceededError, UnavailableError } from "../../src/core/errors.js";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import {
  bearer,
  failureOf,
  promiseApi,
  startGrpcServer,
  type RoleMappingApi,
  type RunningGrpcServer,
} from "./client.js";
import { openApiFixture, type ApiFixture } from "./harness.js";

const TOKEN = "provisioner-secret-0123456789";
const LIMITS = { maxSubjects: 5, maxRootFields: 3, maxPageSize: 50 };

let fixture: ApiFixture;
let running: RunningGrpcServer;
let api: RoleMappingApi;

beforeAll(async () => {
  fixture = await openApiFixture(LIMITS);
  running = await startGrpcServer({
    service: fixture.service,
    authorizer: fixture.authorizer,
    health: () => fixture.sync.ready(),
    auth: { tokens: ApiTokens.load({ tokens: `provisioner:${TOKEN}` }) },
    logger: fixture.log,
  });
  api = promiseApi(running.client(), bearer(TOKEN));
});

afterAll(async () => {
  await running?.stop();
  await fixture?.close();
});

const role = (id: string, component: string, fields: string[]) => ({
  roleId: id,
  componentId: component,
  graphqlRootFieldNames: fields,
});

describe("RoleMappingService over gRPC", () => {
  it("upserts a role and reads it back by role_id and by component_id", async () => {
    const upserted = await api.upsertRole(role("sales.read", "urn:cmp:sales", ["sales_select", "sales_agg"]));
    // The store answers with the role as stored: its root fields sorted.
    expect(upserted.role).toEqual(role("sales.read", "urn:cmp:sales", ["sales_agg", "sales_select"]));

    const updated = await api.upsertRole(role("sales.read", "urn:cmp:sales", ["sales_select"]));
    expect(updated.role?.graphqlRootFieldNames).toEqual(["sales_select"]);
    expect((await api.getRole({ roleId: "sales.read" })).role).toEqual(
      role("sales.read", "urn:cmp:sales", ["sales_select"]),
    );
    expect((await api.getRoleByComponent({ componentId: "urn:cmp:sales" })).role?.roleId).toBe("sales.read");
  });

  it("replaces the users and groups of a role and reports who holds it", async () => {
    await api.upsertRole(role("hr.read", "urn:cmp:hr", ["hr_select"]));
    await api.setUserRoles({ roleId: "hr.read", users: ["user:alice_corp.com", "user:carol_corp.com"] });
    const users = await api.setUserRoles({
      roleId: "hr.read",
      users: ["user:alice_corp.com", "user:dave_corp.com"],
    });
    expect(users).toEqual({ roleId: "hr.read", users: ["user:alice_corp.com", "user:dave_corp.com"] });
    const groups = await api.setGroupRoles({ roleId: "hr.read", groups: ["group:analysts"] });
    expect(groups).toEqual({ roleId: "hr.read", groups: ["group:analysts"] });

    const grants = await api.getRoleGrants({ roleId: "hr.read" });
    expect({ ...grants, users: [...grants.users].sort() }).toEqual({
      roleId: "hr.read",
      users: ["user:alice_corp.com", "user:dave_corp.com"],
      groups: ["group:analysts"],
    });
    expect((await api.listSubjectRoles({ subject: "user:dave_corp.com" })).roleIds).toEqual(["hr.read"]);
    expect((await api.listSubjectRoles({ subject: "user:carol_corp.com" })).roleIds).toEqual([]);
    expect((await api.listSubjectRoles({ subject: "group:analysts" })).roleIds).toEqual(["hr.read"]);
  });

  it("deletes a role with all its grants", async () => {
    await api.upsertRole(role("tmp.read", "urn:cmp:tmp", ["tmp_select"]));
    await api.setUserRoles({ roleId: "tmp.read", users: ["user:erin"] });
    expect(await api.deleteRole({ roleId: "tmp.read" })).toEqual({});
    expect((await failureOf(api.getRole({ roleId: "tmp.read" }))).code).toBe(status.NOT_FOUND);
    expect((await api.listSubjectRoles({ subject: "user:erin" })).roleIds).toEqual([]);
    // The component is free again for another role.
    await api.upsertRole(role("tmp2.read", "urn:cmp:tmp", ["tmp_select"]));
  });

  it("lists roles in role_id order, page by page", async () => {
    for (const id of ["page.c", "page.a", "page.b"]) await api.upsertRole(role(id, `urn:cmp:${id}`, ["f"]));
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const page = await api.listRoles({ pageSize: 2, pageToken });
      expect(page.roles.length).toBeLessThanOrEqual(2);
      seen.push(...page.roles.map((r) => r.roleId));
      pageToken = page.nextPageToken;
      pages++;
    } while (pageToken !== "" && pages < 100);
    expect(seen).toEqual([...seen].sort());
    expect(seen).toEqual(expect.arrayContaining(["page.a", "page.b", "page.c"]));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("explains decisions for an explicit user and groups, and for a consumer token", async () => {
    await api.upsertRole(role("orders.read", "urn:cmp:orders", ["orders_select", "orders_agg"]));
    await api.setGroupRoles({ roleId: "orders.read", groups: ["group:analysts"] });
    const query = "query Q { orders_select { id } orders_agg { count } }";

    const viaGroup = await api.explainDecision({
      token: "",
      user: "user:zoe",
      groups: ["group:analysts"],
      query,
      operationName: "Q",
      requestedRole: "",
    });
    expect(viaGroup).toMatchObject({
      allowed: true,
      role: "orders.read",
      reason: "allowed",
      user: "user:zoe",
      groups: ["group:analysts"],
      // analysts also hold hr.read from an earlier case.
      heldRoles: ["hr.read", "orders.read"],
      candidateRoles: ["orders.read"],
    });
    expect([...viaGroup.rootFields].sort()).toEqual(["orders_agg", "orders_select"]);

    const noRoles = await api.explainDecision({
      token: "bob-token",
      user: "",
      groups: [],
      query,
      operationName: "",
      requestedRole: "",
    });
    expect(noRoles).toMatchObject({
      allowed: false,
      role: "",
      reason: "no_roles",
      user: "user:bob_corp.com",
    });

    const badToken = await api.explainDecision({
      token: "forged",
      user: "",
      groups: [],
      query,
      operationName: "",
      requestedRole: "",
    });
    expect(badToken).toMatchObject({ allowed: false, reason: "token_invalid" });

    const wrongRole = await api.explainDecision({
      token: "alice-token",
      user: "",
      groups: [],
      query,
      operationName: "",
      requestedRole: "hr.read",
    });
    // alice holds hr.read (directly and through analysts), but it does not cover the orders fields.
    expect(wrongRole).toMatchObject({
      allowed: false,
      reason: "role_not_allowed_for_fields",
      heldRoles: ["hr.read", "orders.read"],
    });
    const notHeld = await api.explainDecision({
      token: "alice-token",
      user: "",
      groups: [],
      query,
      operationName: "",
      requestedRole: "sales.read",
    });
    expect(notHeld).toMatchObject({
      allowed: false,
      reason: "role_not_held",
      candidateRoles: ["orders.read"],
    });
  });

  it("explains that a reserved role held in the store is never answered, listing it apart", async () => {
    // Written outside the API, as with SQL: admin mapped to the orders fields and granted to the analysts.
    await fixture.store.upsertRole({
      roleId: "admin",
      componentId: "urn:admin",
      rootFields: ["orders_select"],
    });
    await fixture.store.setGroupRoles("admin", ["group:analysts"]);
    await fixture.sync.reload();
    const explain = (token: string, requestedRole: string) =>
      api.explainDecision({
        token,
        user: "",
        groups: [],
        query: "{ orders_select { id } }",
        operationName: "",
        requestedRole,
      });
    expect(await explain("alice-token", "admin")).toMatchObject({
      allowed: false,
      role: "",
      reason: "reserved_role",
      heldRoles: ["hr.read", "orders.read"],
      candidateRoles: ["orders.read"],
      reservedRoles: ["admin"],
    });
    expect(await explain("alice-token", "")).toMatchObject({
      allowed: true,
      role: "orders.read",
      reservedRoles: ["admin"],
    });
    expect(await explain("bob-token", "")).toMatchObject({ reason: "no_roles", reservedRoles: [] });
    await api.deleteRole({ roleId: "admin" });
    expect((await explain("alice-token", "")).reservedRoles).toEqual([]);
  });

  it("refuses invalid arguments with INVALID_ARGUMENT naming the field", async () => {
    const cases: [Promise<unknown>, string][] = [
      [api.upsertRole(role("", "urn:cmp:x", [])), "role_id"],
      [api.upsertRole(role("x".repeat(256), "urn:cmp:x", [])), "role_id"],
      [api.upsertRole(role("ok", "", [])), "component_id"],
      [api.upsertRole(role("ok", "urn:cmp:x", ["a", "a"])), "graphql_root_field_names[1]"],
      [api.upsertRole(role("ok", "urn:cmp:x", ["a", "b", "c", "d"])), "graphql_root_field_names"],
      [api.setUserRoles({ roleId: "hr.read", users: ["alice"] }), "users[0]"],
      [api.setUserRoles({ roleId: "hr.read", users: ["user:a", "user:a"] }), "users[1]"],
      [
        api.setUserRoles({
          roleId: "hr.read",
          users: ["user:1", "user:2", "user:3", "user:4", "user:5", "user:6"],
        }),
        "users",
      ],
      [api.setGroupRoles({ roleId: "hr.read", groups: ["user:alice"] }), "groups[0]"],
      [api.getRole({ roleId: "" }), "role_id"],
      [api.getRoleByComponent({ componentId: "" }), "component_id"],
      [api.listRoles({ pageSize: 51, pageToken: "" }), "page_size"],
      [api.listRoles({ pageSize: 1, pageToken: "not-a-token" }), "page_token"],
      [api.listSubjectRoles({ subject: "alice" }), "subject"],
      [
        api.explainDecision({
          token: "",
          user: "",
          groups: [],
          query: "{ a }",
          operationName: "",
          requestedRole: "",
        }),
        "user",
      ],
      [
        api.explainDecision({
          token: "",
          user: "user:a",
          groups: [],
          query: "{",
          operationName: "",
          requestedRole: "",
        }),
        "query",
      ],
    ];
    for (const [call, field] of cases) {
      const failure = await failureOf(call);
      expect(failure.code, field).toBe(status.INVALID_ARGUMENT);
      expect(failure.details.startsWith(`${field}:`), failure.details).toBe(true);
    }
  });

  it("refuses Hasura's admin role in every write with INVALID_ARGUMENT naming role_id and why", async () => {
    const writes = [
      api.upsertRole(role("admin", "urn:cmp:admin", ["orders_select"])),
      api.setUserRoles({ roleId: "admin", users: ["user:mallory"] }),
      api.setGroupRoles({ roleId: "admin", groups: ["group:ops"] }),
    ];
    for (const write of writes) {
      const failure = await failureOf(write);
      expect(failure.code).toBe(status.INVALID_ARGUMENT);
      expect(failure.details).toMatch(/^role_id: "admin" is a reserved role id: it is Hasura's admin role/);
    }
    expect((await failureOf(api.getRole({ roleId: "admin" }))).code).toBe(status.NOT_FOUND);
    // Role names are case-sensitive in Hasura: Admin is an ordinary role.
    expect((await api.upsertRole(role("Admin", "urn:cmp:Admin", ["audit"]))).role?.roleId).toBe("Admin");
  });

  it("answers NOT_FOUND for a missing role or component", async () => {
    for (const call of [
      api.getRole({ roleId: "nope" }),
      api.getRoleByComponent({ componentId: "urn:cmp:nope" }),
      api.deleteRole({ roleId: "nope" }),
      api.setUserRoles({ roleId: "nope", users: [] }),
      api.setGroupRoles({ roleId: "nope", groups: [] }),
      api.getRoleGrants({ roleId: "nope" }),
    ]) {
      expect((await failureOf(call)).code).toBe(status.NOT_FOUND);
    }
  });

  it("answers ALREADY_EXISTS on a role_id or component_id clash, saying which", async () => {
    await api.upsertRole(role("clash.a", "urn:cmp:clash-a", ["f"]));
    await api.upsertRole(role("clash.b", "urn:cmp:clash-b", ["f"]));
    const roleIdClash = await failureOf(api.upsertRole(role("clash.a", "urn:cmp:clash-new", ["f"])));
    expect(roleIdClash.code).toBe(status.ALREADY_EXISTS);
    expect(roleIdClash.details).toMatch(/^role_id: /);
    const componentClash = await failureOf(api.upsertRole(role("clash.c", "urn:cmp:clash-b", ["f"])));
    expect(componentClash.code).toBe(status.ALREADY_EXISTS);
    expect(componentClash.details).toMatch(/^component_id: /);
  });

  it("maps store failures: UNAVAILABLE, DEADLINE_EXCEEDED, and UNKNOWN with a fixed message", async () => {
    try {
      fixture.fail(new UnavailableError("connection refused to 10.0.0.1"));
      expect(await failureOf(api.getRole({ roleId: "sales.read" }))).toEqual({
        code: status.UNAVAILABLE,
        details: "connection refused to 10.0.0.1",
      });
      fixture.fail(new DeadlineExceededError("store did not answer within 2000 ms"));
      expect((await failureOf(api.setUserRoles({ roleId: "sales.read", users: [] }))).code).toBe(
        status.DEADLINE_EXCEEDED,
      );
      fixture.fail(new TypeError("cannot read properties of undefined (secret detail)"));
      expect(await failureOf(api.listRoles({ pageSize: 10, pageToken: "" }))).toEqual({
        code: status.UNKNOWN,
        details: "internal error",
      });
      expect(fixture.log.text()).toContain("secret detail");
    } finally {
      fixture.fail(undefined);
    }
  });

  it("logs each call with the caller's name and never the token", async () => {
    await api.getRole({ roleId: "sales.read" });
    const last = fixture.log.calls().at(-1);
    expect(last).toMatchObject({ transport: "grpc", method: "GetRole", caller: "provisioner", code: "OK" });
    expect(fixture.log.text()).not.toContain(TOKEN);
  });
});
