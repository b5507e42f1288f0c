import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { bearer, failureOf, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { sample } from "../observability/sidecar-fixture.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import type { HasuraStandIn } from "../support/hasura/server.js";
import { startHasuraSidecar, type HasuraSidecar } from "../support/hasura-sidecar.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import type { RunningSidecar } from "../support/sidecar-harness.js";

// Issue 12 §1: client → Hasura (stand-in) → the sidecar's webhook, the mappings kept in Hasura's database. The
// API refuses Hasura's admin role; rows granting it written with SQL (as through Hasura's console) are ignored.
const ADMIN_SECRET = "reserved-e2e-admin-secret";
const API_TOKEN = "0123456789abcdef0123";
const SALES = "{ output_port_sales { id } }";
let stack: HasuraSidecar | undefined;
let issuer: JwksIssuer;
let client: SqlClient;
let hasura: HasuraStandIn;
let running: RunningSidecar;
let grpcClient: RoleMappingServiceClient;
let api: RoleMappingApi;
let adminUrl: string;
let metricsUrl: string;

beforeAll(async () => {
  stack = await startHasuraSidecar({
    adminSecret: ADMIN_SECRET,
    env: { RESERVED_ROLE_IDS: '["anonymous"]', SNAPSHOT_MAX_LAG_S: "0.2" },
  });
  ({ issuer, client, hasura, running } = stack);
  const ports = running.sidecar.ports();
  adminUrl = `http://127.0.0.1:${ports.adminPort}`;
  metricsUrl = `http://127.0.0.1:${ports.metricsPort}/metrics`;
  grpcClient = new RoleMappingServiceClient(`127.0.0.1:${ports.grpcPort}`, credentials.createInsecure());
  api = promiseApi(grpcClient, bearer(API_TOKEN));
  await api.upsertRole({
    roleId: "sales_reader",
    componentId: "urn:sales",
    graphqlRootFieldNames: ["output_port_sales"],
  });
  await api.setUserRoles({ roleId: "sales_reader", users: ["user:eve_corp.com"] });
});

afterAll(async () => {
  grpcClient?.close();
  await stack?.close();
});

const token = (name: string, groups: string[] = []) =>
  issuer.sign({ unique_name: `${name}@corp.com`, groups });

async function webhook(name: string, role?: string, request: unknown = { query: SALES }) {
  const headers: Record<string, string> = { Authorization: `Bearer ${await token(name, ["ops"])}` };
  if (role !== undefined) headers["X-Hasura-Role"] = role;
  return running.post({ headers, request });
}

async function put(path: string, body: object) {
  const response = await fetch(`${adminUrl}${path}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as unknown };
}

async function scrape(name: string): Promise<number | undefined> {
  return sample(await (await fetch(metricsUrl)).text(), name);
}

function reasonsFor(user: string): unknown[] {
  const lines = running.log.lines().filter((line) => line.event === "decision" && line.user === user);
  return lines.map((line) => [line.outcome, line.reason, line.role]);
}

describe("Hasura's admin role through the whole sidecar", () => {
  it("is refused by the API on both transports, naming role_id and why", async () => {
    const why = /^role_id: "admin" is a reserved role id: it is Hasura's admin role, which bypasses every/;
    const role = {
      role_id: "admin",
      component_id: "urn:admin",
      graphql_root_field_names: ["output_port_sales"],
    };
    expect(await put("/v1/roles", role)).toEqual({
      status: 400,
      body: { errors: [expect.stringMatching(why)] },
    });
    expect((await put("/v1/user_roles", { role_id: "admin", users: ["user:mallory_corp.com"] })).status).toBe(
      400,
    );
    expect((await put("/v1/group_roles", { role_id: "anonymous", groups: ["group:ops"] })).status).toBe(400);
    const grpc = await failureOf(
      api.upsertRole({
        roleId: "admin",
        componentId: "urn:admin",
        graphqlRootFieldNames: ["output_port_sales"],
      }),
    );
    expect(grpc.code).toBe(status.INVALID_ARGUMENT);
    expect(grpc.details).toMatch(why);
    expect((await failureOf(api.setGroupRoles({ roleId: "admin", groups: ["group:ops"] }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await webhook("mallory", "admin")).status).toBe(401);
  });

  it("is never answered when rows written with SQL grant it, with the rows counted and logged", async () => {
    // As an operator could through Hasura's console: admin mapped to the data and granted; anonymous too.
    await client.query(`INSERT INTO rolemapping.roles (role_id, component_id) VALUES
      ('admin', 'urn:admin'), ('anonymous', 'urn:anonymous')`);
    await client.query(`INSERT INTO rolemapping.role_graphql_root_field_names (role_id, graphql_root_field_name)
      VALUES ('admin', 'output_port_sales'), ('anonymous', 'output_port_sales')`);
    await client.query(`INSERT INTO rolemapping.user_roles ("user", role_id) VALUES
      ('user:mallory_corp.com', 'admin'), ('user:eve_corp.com', 'anonymous')`);
    await client.query(
      `INSERT INTO rolemapping.group_roles ("group", role_id) VALUES ('group:ops', 'admin')`,
    );
    // Two role rows and three grant rows, as soon as the sidecar has reloaded.
    await expect.poll(() => scrape("rolemapper_snapshot_reserved_rows_ignored"), { timeout: 10_000 }).toBe(5);

    expect(await webhook("mallory")).toEqual({ status: 401, body: "Unauthorized" });
    expect(await webhook("mallory", "admin")).toEqual({ status: 401, body: "Unauthorized" });
    expect(await webhook("mallory", "admin", null)).toEqual({ status: 401, body: "Unauthorized" });
    expect(await webhook("eve", "admin")).toEqual({ status: 401, body: "Unauthorized" });
    expect(await webhook("eve", "anonymous")).toEqual({ status: 401, body: "Unauthorized" });
    // The reserved grant takes nothing from eve's own role; `Admin` is not Hasura's admin, and nobody holds it.
    expect(await webhook("eve")).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:eve_corp.com", "X-Hasura-Role": "sales_reader" },
    });
    expect((await webhook("eve", "Admin")).status).toBe(401);
    expect(reasonsFor("user:mallory_corp.com").slice(-3)).toEqual(
      Array(3).fill(["deny", "reserved_role", undefined]),
    );
    expect(reasonsFor("user:eve_corp.com").slice(-4)).toEqual([
      ["deny", "reserved_role", undefined],
      ["deny", "reserved_role", undefined],
      ["allow", "allowed", "sales_reader"],
      ["deny", "role_not_held", undefined],
    ]);

    const loads = running.log.lines().filter((line) => line.event === "reserved_roles_ignored");
    expect(loads.length).toBeGreaterThan(0);
    expect(loads[0]).toMatchObject({ level: 50, role_ids: ["admin", "anonymous"], rows: 5 });
    expect(running.log.raw()).not.toContain(ADMIN_SECRET);
  });

  it("is never reached through Hasura, whatever role header the client sends", async () => {
    const authorization = `Bearer ${await token("mallory", ["ops"])}`;
    const asked: Record<string, string>[] = [{ authorization }, { authorization, "x-hasura-role": "admin" }];
    for (const headers of asked) {
      const answer = await postGraphQL(hasura.url, "{ rolemapping_roles { role_id } }", { headers });
      expect(answer.body).toEqual({
        errors: [
          {
            message: "Authentication hook unauthorized this request",
            extensions: { path: "$", code: "access-denied" },
          },
        ],
      });
    }
  });

  it("is reported by ExplainDecision apart from the held roles", async () => {
    const explain = async (name: string, requestedRole: string) =>
      api.explainDecision({
        token: await token(name, ["ops"]),
        user: "",
        groups: [],
        query: SALES,
        operationName: "",
        requestedRole,
      });
    expect(await explain("mallory", "")).toMatchObject({
      allowed: false,
      reason: "reserved_role",
      heldRoles: [],
      reservedRoles: ["admin"],
    });
    expect(await explain("eve", "admin")).toMatchObject({
      allowed: false,
      reason: "reserved_role",
      heldRoles: ["sales_reader"],
      reservedRoles: ["admin", "anonymous"],
    });
  });

  it("is cleaned up with DeleteRole: the count falls to 0 and the caller simply holds no role", async () => {
    await api.deleteRole({ roleId: "admin" });
    await api.deleteRole({ roleId: "anonymous" });
    await expect.poll(() => scrape("rolemapper_snapshot_reserved_rows_ignored"), { timeout: 10_000 }).toBe(0);
    expect((await webhook("mallory")).status).toBe(401);
    expect(reasonsFor("user:mallory_corp.com").at(-1)).toEqual(["deny", "no_roles", undefined]);
  });
});
