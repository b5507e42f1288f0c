import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { sample } from "../observability/sidecar-fixture.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import type { HasuraStandIn } from "../support/hasura/server.js";
import { startHasuraSidecar, type HasuraSidecar } from "../support/hasura-sidecar.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import type { RunningSidecar } from "../support/sidecar-harness.js";

// Issue 16 §1: client → Hasura (stand-in) → the sidecar's webhook; a caller granted two output ports reads both in
// one query through the inherited role the sidecar keeps in Hasura's metadata.
const ADMIN_SECRET = "combined-e2e-admin-secret";
const API_TOKEN = "0123456789abcdef0123";
const BOTH =
  "{ output_port_sales(order_by: {id: asc}) { id region amount } output_port_orders(order_by: {id: asc}) { id region amount } }";
const COMBINED = combinedRoleName("rolemapper_combined_", ["orders_reader", "sales_reader"]);
let stack: HasuraSidecar | undefined;
let issuer: JwksIssuer;
let hasura: HasuraStandIn;
let running: RunningSidecar;
let grpcClient: RoleMappingServiceClient;
let api: RoleMappingApi;
let metricsUrl: string;

beforeAll(async () => {
  stack = await startHasuraSidecar({
    adminSecret: ADMIN_SECRET,
    standIn: { moreOutputPorts: [{ schema: "public", table: "output_port_orders" }] },
    env: { SNAPSHOT_MAX_LAG_S: "0.2", COMBINED_ROLES: "hasura" },
  });
  ({ issuer, hasura, running } = stack);
  const ports = running.sidecar.ports();
  metricsUrl = `http://127.0.0.1:${ports.metricsPort}/metrics`;
  grpcClient = new RoleMappingServiceClient(`127.0.0.1:${ports.grpcPort}`, credentials.createInsecure());
  api = promiseApi(grpcClient, bearer(API_TOKEN));
  await api.upsertRole({
    roleId: "sales_reader",
    componentId: "urn:sales",
    graphqlRootFieldNames: ["output_port_sales"],
  });
  await api.upsertRole({
    roleId: "orders_reader",
    componentId: "urn:orders",
    graphqlRootFieldNames: ["output_port_orders"],
  });
  await api.setUserRoles({ roleId: "sales_reader", users: ["user:alice_corp.com", "user:bob_corp.com"] });
  await api.setUserRoles({ roleId: "orders_reader", users: ["user:alice_corp.com"] });
});

afterAll(async () => {
  grpcClient?.close();
  await stack?.close();
});

const asUser = async (name: string, query: string) =>
  postGraphQL(hasura.url, query, {
    headers: { authorization: `Bearer ${await issuer.sign({ unique_name: `${name}@corp.com` })}` },
  });
const exported = async () => {
  const response = await fetch(hasura.metadataUrl, {
    method: "POST",
    headers: { "x-hasura-admin-secret": ADMIN_SECRET },
    body: JSON.stringify({ type: "export_metadata", args: {} }),
  });
  return ((await response.json()) as { inherited_roles?: unknown[] }).inherited_roles ?? [];
};
const scrape = async (name: string, labels: Record<string, string>) =>
  sample(await (await fetch(metricsUrl)).text(), name, labels);
const DENIED = {
  errors: [
    {
      message: "Authentication hook unauthorized this request",
      extensions: { path: "$", code: "access-denied" },
    },
  ],
};

describe("a query across two output ports through Hasura", () => {
  it("gives a caller granted both ports both result sets, through one inherited role created once", async () => {
    const first = await asUser("alice", BOTH);
    expect(first).toEqual({
      status: 200,
      body: { data: { output_port_sales: SAMPLE_ROWS, output_port_orders: SAMPLE_ROWS } },
    });
    expect(await exported()).toEqual([{ role_name: COMBINED, role_set: ["orders_reader", "sales_reader"] }]);
    expect((await asUser("alice", BOTH)).status).toBe(200);
    expect(hasura.metadataCalls().get("add_inherited_role")).toBe(1);

    const decisions = running.log
      .lines()
      .filter((l) => l.event === "decision" && l.user === "user:alice_corp.com");
    expect(decisions.at(-1)).toMatchObject({
      outcome: "allow",
      role: COMBINED,
      parent_roles: ["orders_reader", "sales_reader"],
    });
    expect(await scrape("rolemapper_combined_decisions_total", { outcome: "allow" })).toBe(2);
    expect(await scrape("rolemapper_combined_roles_total", { event: "created" })).toBe(1);
  });

  it("still denies a caller holding only one of the ports", async () => {
    expect(await asUser("bob", BOTH)).toEqual({ status: 200, body: DENIED });
    expect((await asUser("bob", "{ output_port_sales { id } }")).body).toEqual({
      data: { output_port_sales: [{ id: 1 }, { id: 2 }] },
    });
  });

  it("explains the covering set and the combined role over gRPC", async () => {
    const explanation = await api.explainDecision({
      token: "",
      user: "user:alice_corp.com",
      groups: [],
      query: BOTH,
      operationName: "",
      requestedRole: "",
    });
    expect(explanation).toMatchObject({
      allowed: true,
      role: COMBINED,
      coveringRoles: ["orders_reader", "sales_reader"],
      combinedRole: COMBINED,
      candidateRoles: [],
    });
  });

  it("answers 401 on the next request once one of the grants is revoked", async () => {
    await api.setUserRoles({ roleId: "orders_reader", users: [] });
    expect(await asUser("alice", BOTH)).toEqual({ status: 200, body: DENIED });
    const token = await issuer.sign({ unique_name: "alice@corp.com" });
    expect((await running.ask(token, BOTH)).status).toBe(401);
  });

  it("drops the combined roles of a deleted role before DeleteRole returns", async () => {
    await api.setUserRoles({ roleId: "orders_reader", users: ["user:alice_corp.com"] });
    expect((await asUser("alice", BOTH)).status).toBe(200);
    expect(await exported()).toHaveLength(1);
    await api.deleteRole({ roleId: "orders_reader" });
    expect(await exported()).toEqual([]);
    expect(await scrape("rolemapper_combined_roles_total", { event: "dropped" })).toBe(1);
    expect(running.log.raw()).not.toContain(ADMIN_SECRET);
  });
});
