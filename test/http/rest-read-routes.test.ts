import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { FakeStore } from "../support/fake-store.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import {
  API_TOKEN as TOKEN,
  issuerEnv,
  startTestSidecar,
  type RunningSidecar,
} from "../support/sidecar-harness.js";

// The RPCs that had no REST route before (ListRoles, GetRoleGrants, ListSubjectRoles, ExplainDecision), against a
// whole sidecar on ephemeral ports: the same answers as over gRPC, the same credentials, the same status mapping.

const store = new FakeStore();
let issuer: JwksIssuer;
let running: RunningSidecar;
let client: RoleMappingServiceClient;
let grpc: RoleMappingApi;
let admin: string;

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  running = await startTestSidecar(issuerEnv(issuer), { store });
  admin = running.adminUrl;
  client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure());
  grpc = promiseApi(client, bearer(TOKEN));
  for (const [roleId, field] of [
    ["sales", "sales_orders"],
    ["stock", "stock_items"],
    ["hr", "hr_people"],
  ] as const) {
    await grpc.upsertRole({ roleId, componentId: `urn:${roleId}`, graphqlRootFieldNames: [field] });
  }
  await grpc.setUserRoles({ roleId: "sales", users: ["user:alice_corp.com", "user:bob_corp.com"] });
  await grpc.setGroupRoles({ roleId: "sales", groups: ["group:Sales Readers"] });
  await grpc.setGroupRoles({ roleId: "stock", groups: ["group:Sales Readers"] });
});

afterAll(async () => {
  client?.close();
  await running?.stop();
  await issuer?.close();
});

/** A REST call with the API token (or `authorization` as given, null for none): status, JSON body, headers. */
async function rest(
  method: string,
  path: string,
  body?: unknown,
  authorization: string | null = `Bearer ${TOKEN}`,
) {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(admin + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
    www: response.headers.get("www-authenticate"),
  };
}

// A gRPC message as the REST API spells it: the proto's field names (snake_case), written out here by hand.
function snake(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snake);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      snake(field),
    ]),
  );
}

const READS: [string, string, unknown?][] = [
  ["GET", "/v1/roles"],
  ["GET", "/v1/role_grants/sales"],
  ["GET", `/v1/subject_roles/${encodeURIComponent("group:Sales Readers")}`],
  ["POST", "/v1/explain_decision", { user: "user:alice_corp.com", query: "{ sales_orders { id } }" }],
];

describe("the new REST routes need the API's credentials", () => {
  it.each(READS)("%s %s answers 401 without a token, or with a wrong one", async (method, path, body) => {
    expect(await rest(method, path, body, null)).toEqual({
      status: 401,
      body: "Unauthorized",
      www: 'Bearer realm="rolemapper"',
    });
    expect((await rest(method, path, body, "Bearer not-the-api-token-at-all")).status).toBe(401);
  });

  it("logs each call once, under the credential's name and the status answered", async () => {
    await rest("GET", "/v1/role_grants/sales");
    const calls = running.log
      .lines()
      .filter((line) => line.event === "api_call" && line.transport === "rest");
    expect(calls.at(-1)).toMatchObject({ method: "GET /v1/role_grants/sales", caller: "test", status: 200 });
  });
});

describe("the new REST routes answer what gRPC answers", () => {
  it("GET /v1/roles: the roles in role_id order, with their root fields, a page at a time", async () => {
    const all = await rest("GET", "/v1/roles");
    expect(all.status).toBe(200);
    expect(all.body).toEqual(snake(await grpc.listRoles({ pageSize: 0, pageToken: "" })));
    expect(all.body).toMatchObject({
      roles: [
        { role_id: "hr", component_id: "urn:hr", graphql_root_field_names: ["hr_people"] },
        { role_id: "sales" },
        { role_id: "stock" },
      ],
      next_page_token: "",
    });
    const first = await rest("GET", "/v1/roles?page_size=2");
    const token = (first.body as { next_page_token: string }).next_page_token;
    expect((first.body as { roles: unknown[] }).roles).toHaveLength(2);
    const second = await rest("GET", `/v1/roles?page_size=2&page_token=${encodeURIComponent(token)}`);
    expect(second.body).toEqual(snake(await grpc.listRoles({ pageSize: 2, pageToken: token })));
    expect(second.body).toMatchObject({ roles: [{ role_id: "stock" }], next_page_token: "" });
  });

  it("GET /v1/role_grants/{role_id}: the users and groups holding the role", async () => {
    expect(await rest("GET", "/v1/role_grants/sales")).toMatchObject({
      status: 200,
      body: {
        role_id: "sales",
        users: ["user:alice_corp.com", "user:bob_corp.com"],
        groups: ["group:Sales Readers"],
      },
    });
    expect((await rest("GET", "/v1/role_grants/hr")).body).toEqual(
      snake(await grpc.getRoleGrants({ roleId: "hr" })),
    );
  });

  it("GET /v1/subject_roles/{subject}: the role ids a user or group holds directly", async () => {
    const group = await rest("GET", `/v1/subject_roles/${encodeURIComponent("group:Sales Readers")}`);
    expect(group).toMatchObject({ status: 200, body: { role_ids: ["sales", "stock"] } });
    const user = await rest("GET", `/v1/subject_roles/${encodeURIComponent("user:bob_corp.com")}`);
    expect(user.body).toEqual(snake(await grpc.listSubjectRoles({ subject: "user:bob_corp.com" })));
    expect((await rest("GET", "/v1/subject_roles/user:nobody")).body).toEqual({ role_ids: [] });
  });

  it("POST /v1/explain_decision: the webhook's decision for a user and groups, or for a token, and why", async () => {
    const asked = {
      user: "user:carol_corp.com",
      groups: ["group:Sales Readers"],
      query: "{ stock_items { id } }",
    };
    const explained = await rest("POST", "/v1/explain_decision", asked);
    expect(explained).toMatchObject({
      status: 200,
      body: {
        allowed: true,
        role: "stock",
        reason: "allowed",
        held_roles: ["sales", "stock"],
        root_fields: ["stock_items"],
      },
    });
    expect(explained.body).toEqual(
      snake(await grpc.explainDecision({ ...asked, token: "", operationName: "", requestedRole: "" })),
    );
    const token = await issuer.sign({ unique_name: "alice@corp.com" });
    const byToken = await rest("POST", "/v1/explain_decision", { token, query: "{ hr_people { id } }" });
    expect(byToken.body).toMatchObject({
      allowed: false,
      user: "user:alice_corp.com",
      reason: "no_role_for_fields",
    });
    // A token the webhook refuses is an answer, not a failure of the call.
    const refused = await rest("POST", "/v1/explain_decision", {
      token: "not.a.jwt",
      query: "{ hr_people { id } }",
    });
    expect(refused).toMatchObject({ status: 200, body: { allowed: false, reason: expect.any(String) } });
  });
});

describe("the new REST routes refuse bad input naming the field, with the one error-to-status mapping", () => {
  it.each([
    ["GET", "/v1/roles?page_size=1001", undefined, "page_size: expected an integer from 1 to 1000"],
    ["GET", "/v1/roles?page_size=ten", undefined, "page_size: expected an integer from 1 to 1000"],
    [
      "GET",
      "/v1/roles?page_token=bm90LWEtdG9rZW4",
      undefined,
      "page_token: not a token returned by ListRoles",
    ],
    [
      "GET",
      `/v1/role_grants/${"r".repeat(256)}`,
      undefined,
      "role_id: must be at most 255 characters (got 256)",
    ],
    ["GET", "/v1/subject_roles/alice", undefined, 'subject: must start with "user:" or "group:"'],
    ["POST", "/v1/explain_decision", { user: "user:a" }, "query: required field missing"],
    ["POST", "/v1/explain_decision", { user: "user:a", query: 5 }, "query: expected a string"],
    [
      "POST",
      "/v1/explain_decision",
      { query: "{ a }", groups: "group:g" },
      "groups: expected a list of strings",
    ],
    ["POST", "/v1/explain_decision", { query: "{ a }" }, "user: give a token, or a user subject (user:…)"],
    ["POST", "/v1/explain_decision", [1], "body: expected a JSON object"],
  ])("%s %s %j: 400 %s", async (method, path, body, message) => {
    expect(await rest(method, path, body)).toMatchObject({ status: 400, body: { errors: [message] } });
  });

  it("404 for a role that does not exist, in the previous service's wording", async () => {
    expect(await rest("GET", "/v1/role_grants/missing")).toMatchObject({
      status: 404,
      body: "Role not found for role_id missing",
    });
  });

  it("503 while the store is unreachable, 413 for a body over the bound, 400 for a body that is not JSON", async () => {
    store.down = true;
    try {
      expect(await rest("GET", "/v1/roles")).toMatchObject({
        status: 503,
        body: { error: "store unreachable" },
      });
      expect((await rest("GET", "/v1/role_grants/sales")).status).toBe(503);
    } finally {
      store.down = false;
    }
    const padding = "p".repeat(33 * 1024 * 1024);
    expect(await rest("POST", "/v1/explain_decision", { query: "{ a }", padding })).toMatchObject({
      status: 413,
      body: { errors: ["request body too large"] },
    });
    const raw = await fetch(`${admin}/v1/explain_decision`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: '{"query": ',
    });
    expect({ status: raw.status, body: await raw.json() }).toEqual({
      status: 400,
      body: { errors: ["request body is not valid JSON"] },
    });
  });
});
