import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, sample, startFixture, type SidecarFixture } from "./sidecar-fixture.js";

// The decision audit line and the mapping write audit, read back from the JSON log.
let fixture: SidecarFixture;
let token: string;

beforeAll(async () => {
  fixture = await startFixture();
  token = await fixture.aliceToken();
});

afterAll(async () => {
  await fixture?.close();
});

const DECISION_KEYS = [
  "event",
  "groups_count",
  "latency_ms",
  "level",
  "msg",
  "operation_name",
  "operation_type",
  "outcome",
  "reason",
  "request_id",
  "role",
  "root_fields",
  "time",
  "user",
];

describe("the decision audit line", () => {
  it("has the stable schema, Hasura's request id, and never the token or a variable value", async () => {
    const status = await fixture.ask(
      { Authorization: `Bearer ${token}`, "X-Request-Id": "req-7f3a" },
      "query Orders { sales_orders { id } }",
    );
    expect(status).toBe(200);
    const line = fixture.log.lines().find((entry) => entry.request_id === "req-7f3a");
    expect(line).toBeDefined();
    expect(
      Object.keys(line ?? {})
        .filter((key) => !["pid", "hostname"].includes(key))
        .sort(),
    ).toEqual(DECISION_KEYS);
    expect(line).toMatchObject({
      event: "decision",
      user: "user:alice_corp.com",
      groups_count: 1,
      operation_type: "query",
      operation_name: "Orders",
      root_fields: ["sales_orders"],
      role: "sales",
      outcome: "allow",
      reason: "allowed",
    });
    expect(typeof line?.latency_ms).toBe("number");
    expect(typeof line?.time).toBe("number");
    const raw = fixture.log.raw();
    expect(raw).not.toContain(token);
    expect(raw).not.toContain(token.split(".")[2]);
    expect(raw).not.toContain("v-42-hidden");
  });

  it("logs a denial with its reason code and no role", async () => {
    expect(await fixture.ask({ Authorization: "Bearer not.a.jwt", "x-request-id": "req-deny" })).toBe(401);
    const line = fixture.log.lines().find((entry) => entry.request_id === "req-deny");
    expect(line).toMatchObject({ event: "decision", outcome: "deny", reason: expect.any(String) });
    expect(line?.role).toBeUndefined();
    expect(fixture.log.raw()).not.toContain("not.a.jwt");
  });
});

describe("sampling of allowed decisions (AUDIT_ALLOWED_SAMPLE=0)", () => {
  it("drops allowed lines but keeps every denial, and metrics still count both", async () => {
    const sampled = await startFixture({ AUDIT_ALLOWED_SAMPLE: "0" });
    try {
      const alice = await sampled.aliceToken();
      expect(await sampled.ask({ Authorization: `Bearer ${alice}` })).toBe(200);
      expect(await sampled.ask({})).toBe(401);
      const decisions = sampled.log.lines().filter((line) => line.event === "decision");
      expect(decisions.map((line) => line.outcome)).toEqual(["deny"]);
      const text = await sampled.scrape();
      expect(sample(text, "rolemapper_decisions_total", { outcome: "allow" })).toBe(1);
      expect(sample(text, "rolemapper_decisions_total", { outcome: "deny" })).toBe(1);
    } finally {
      await sampled.close();
    }
  });
});

describe("the mapping write audit", () => {
  const writes = () => fixture.log.lines().filter((line) => line.event === "mapping_write");

  it("logs a gRPC write with the credential's name and before/after counts", async () => {
    await fixture.grpc.setUserRoles({ roleId: "sales", users: ["user:a_x", "user:b_x", "user:c_x"] });
    await fixture.grpc.setUserRoles({ roleId: "sales", users: ["user:a_x", "user:d_x"] });
    const [, second] = writes().filter((line) => line.operation === "set_user_roles");
    expect(second).toMatchObject({
      transport: "grpc",
      caller: "provisioner",
      operation: "set_user_roles",
      role_id: "sales",
      before: { users: 3 },
      after: { users: 2 },
      added: 1,
      removed: 2,
      outcome: "ok",
    });
  });

  it("logs a REST write under the same name, and a refused write with its error code", async () => {
    const put = (body: object) =>
      fetch(`${fixture.admin}/v1/roles`, {
        method: "PUT",
        headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const created = await put({
      role_id: "hr",
      component_id: "urn:hr",
      graphql_root_field_names: ["a", "b"],
    });
    expect(created.status).toBe(200);
    const clash = await put({ role_id: "hr", component_id: "urn:other", graphql_root_field_names: ["a"] });
    expect(clash.status).toBe(400);
    const upserts = writes().filter((line) => line.operation === "upsert_role" && line.role_id === "hr");
    expect(upserts[0]).toMatchObject({
      transport: "rest",
      caller: "provisioner",
      created: true,
      before: { root_fields: 0 },
      after: { root_fields: 2 },
      component_id: "urn:hr",
      outcome: "ok",
    });
    expect(upserts[1]).toMatchObject({
      transport: "rest",
      caller: "provisioner",
      before: { root_fields: 2 },
      outcome: "error",
      error_code: "conflict",
    });
  });

  it("logs a delete with the grants it removed, and never the API credential or a subject name", async () => {
    await fixture.grpc.setGroupRoles({ roleId: "hr", groups: ["group:people", "group:payroll"] });
    await fixture.grpc.deleteRole({ roleId: "hr" });
    const deleted = writes().find((line) => line.operation === "delete_role");
    expect(deleted).toMatchObject({
      caller: "provisioner",
      before: { users: 0, groups: 2 },
      after: { users: 0, groups: 0 },
      deleted: true,
    });
    const lines = JSON.stringify(writes());
    expect(lines).not.toContain(API_TOKEN);
    expect(lines).not.toContain("group:payroll");
    expect(fixture.log.raw()).not.toContain(API_TOKEN);
  });
});
