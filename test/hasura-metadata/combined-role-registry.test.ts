import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { CombinedRoleRegistry } from "../../src/hasura-metadata/combined-role-registry.js";
import { createMetadataClient, MetadataApiError } from "../../src/hasura-metadata/metadata-client.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import { openPristinePglite } from "../support/pglite-template.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import { RecordingLogger } from "../support/recording-logger.js";

// The registry against the Hasura stand-in's metadata API on port 0, and the stand-in's inherited roles.
const SECRET = "registry-admin-secret";
let client: SqlClient;
let hasura: HasuraStandIn;

beforeAll(async () => {
  client = await openPristinePglite();
  hasura = await startHasuraStandIn({
    client,
    adminSecret: SECRET,
    moreOutputPorts: [{ schema: "public", table: "output_port_orders" }],
  });
  const store = createHasuraStore({ url: hasura.url, adminSecret: SECRET });
  await store.upsertRole({ roleId: "sales", componentId: "urn:sales", rootFields: ["output_port_sales"] });
  await store.upsertRole({ roleId: "orders", componentId: "urn:orders", rootFields: ["output_port_orders"] });
  await store.upsertRole({ roleId: "nothing", componentId: "urn:nothing", rootFields: ["not_a_port"] });
});
afterAll(async () => {
  await hasura.close();
  await client.close();
});

function registry(url = hasura.metadataUrl, createTimeoutMs = 2000, maxRoles = 1000) {
  const events: string[] = [];
  const roles = new CombinedRoleRegistry({
    call: createMetadataClient({ url, adminSecret: SECRET }),
    prefix: "rm_",
    createTimeoutMs,
    maxRoles,
    logger: new RecordingLogger(),
    onEvent: (event) => events.push(event),
  });
  return { roles, events };
}

const metadata = (type: string, args: object) =>
  fetch(hasura.metadataUrl, {
    method: "POST",
    headers: { "x-hasura-admin-secret": SECRET },
    body: JSON.stringify({ type, args }),
  }).then(async (r) => ({ status: r.status, body: (await r.json()) as unknown }));
const asRole = (role: string, query: string) =>
  postGraphQL(hasura.url, query, { headers: { "x-hasura-admin-secret": SECRET, "x-hasura-role": role } });

describe("CombinedRoleRegistry", () => {
  it("creates a role once for concurrent callers, then knows it", async () => {
    const { roles, events } = registry();
    const before = hasura.metadataCalls().get("add_inherited_role") ?? 0;
    await Promise.all([1, 2, 3].map(() => roles.ensure("rm_a", ["orders", "sales"])));
    expect(hasura.metadataCalls().get("add_inherited_role")).toBe(before + 1);
    expect(roles.exists("rm_a")).toBe(true);
    expect(events).toEqual(["created"]);
  });

  it("learns only the roles with its prefix from export_metadata", async () => {
    await metadata("add_inherited_role", { role_name: "someone_elses", role_set: ["sales", "orders"] });
    const { roles } = registry();
    await roles.refresh();
    expect([...roles.roles()]).toEqual([["rm_a", ["orders", "sales"]]]);
    await metadata("drop_inherited_role", { role_name: "someone_elses" });
  });

  it("counts a racing replica's already-exists as success", async () => {
    const racing = createServer((_req, res) => {
      res.writeHead(400, { "content-type": "application/json" });
      res.end(JSON.stringify({ path: "$.args", error: "already there", code: "already-exists" }));
    });
    const url = await listen(racing);
    const { roles, events } = registry(url);
    await roles.ensure("rm_b", ["orders", "sales"]);
    expect(roles.exists("rm_b")).toBe(true);
    expect(events).toEqual(["created"]);
    racing.close();
  });

  it("rejects on a metadata error or past the timeout, counting the failure and learning nothing", async () => {
    const { roles, events } = registry();
    // Hasura refuses a parent without any permission (an inconsistent object).
    await expect(roles.ensure("rm_c", ["nothing", "sales"])).rejects.toMatchObject({
      code: "invalid-configuration",
      message: expect.stringContaining("the following parent role(s) are not found: nothing"),
    });
    const silent = createServer(() => undefined);
    const slow = registry(await listen(silent), 100);
    await expect(slow.roles.ensure("rm_d", ["orders", "sales"])).rejects.toBeInstanceOf(MetadataApiError);
    expect([roles.exists("rm_c"), slow.roles.exists("rm_d")]).toEqual([false, false]);
    expect([...events, ...slow.events]).toEqual(["failed", "failed"]);
    silent.closeAllConnections();
    silent.close();
  });

  it("stops reading an answer past its bound, and names the variable when no usable answer comes", async () => {
    const large = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ version: 3, padding: "x".repeat(4096) }));
    });
    const call = createMetadataClient({
      url: await listen(large),
      adminSecret: SECRET,
      maxAnswerBytes: 1024,
    });
    await expect(call("export_metadata", {}, 2000)).rejects.toMatchObject({
      code: "unreachable",
      message: "export_metadata: unreachable at HASURA_METADATA_URL (response larger than 1024 bytes)",
    });
    large.close();
    const down = createMetadataClient({ url: "http://127.0.0.1:1/v1/metadata", adminSecret: SECRET });
    await expect(down("export_metadata", {}, 2000)).rejects.toMatchObject({
      code: "unreachable",
      message: "export_metadata: unreachable at HASURA_METADATA_URL",
    });
  });

  it("drops every role having a parent, also those another replica made, and fails closed when it cannot", async () => {
    await metadata("add_inherited_role", { role_name: "rm_other_replica", role_set: ["orders", "sales"] });
    const { roles, events } = registry();
    await roles.dropWithParent("orders");
    expect(await metadata("export_metadata", {})).toMatchObject({ status: 200, body: { version: 3 } });
    expect((await metadata("export_metadata", {})).body).not.toHaveProperty("inherited_roles");
    expect(events).toEqual(["dropped", "dropped"]);
    const down = registry("http://127.0.0.1:1/v1/metadata");
    await expect(down.roles.dropWithParent("orders")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("creates no role past COMBINED_ROLE_MAX, counting the refusal, and creates again once one is gone", async () => {
    const { roles, events } = registry(hasura.metadataUrl, 2000, 1);
    const before = hasura.metadataCalls().get("add_inherited_role") ?? 0;
    await roles.ensure("rm_first", ["orders", "sales"]);
    await expect(roles.ensure("rm_second", ["orders", "sales"])).rejects.toThrow(
      /1 exist already \(COMBINED_ROLE_MAX\); "rm_second" was not created/,
    );
    expect(hasura.metadataCalls().get("add_inherited_role")).toBe(before + 1);
    expect([roles.exists("rm_first"), roles.exists("rm_second")]).toEqual([true, false]);
    expect(events).toEqual(["created", "failed"]);
    await roles.dropWithParent("sales");
    await roles.ensure("rm_second", ["orders", "sales"]);
    expect(roles.exists("rm_second")).toBe(true);
    await roles.dropWithParent("sales");
  });
});

describe("the stand-in's inherited roles, as Hasura's", () => {
  const BOTH =
    "{ output_port_sales(order_by: {id: asc}) { id region amount } output_port_orders(order_by: {id: asc}) { id region amount } }";

  it("runs a query as an inherited role with its parents' root fields united", async () => {
    await metadata("add_inherited_role", { role_name: "rm_union", role_set: ["sales", "orders"] });
    expect(await asRole("rm_union", BOTH)).toEqual({
      status: 200,
      body: { data: { output_port_sales: SAMPLE_ROWS, output_port_orders: SAMPLE_ROWS } },
    });
  });

  it("refuses a role among its own parents, and dropping an unknown role", async () => {
    expect(
      await metadata("add_inherited_role", { role_name: "sales", role_set: ["sales", "orders"] }),
    ).toEqual({
      status: 400,
      body: {
        path: "$.args",
        error: "an inherited role name cannot be in the role combination",
        code: "invalid-params",
      },
    });
    expect(await metadata("drop_inherited_role", { role_name: "rm_nope" })).toEqual({
      status: 400,
      body: { path: "$.args", error: '"rm_nope" inherited role doesn\'t exist', code: "not-exists" },
    });
  });

  it("keeps in metadata, but serves nothing as, an inherited role whose parent lost its last permission", async () => {
    await client.query("DELETE FROM rolemapping.role_graphql_root_field_names WHERE role_id = 'orders'");
    const answer = await asRole("rm_union", "{ output_port_sales { id } }");
    expect(answer.body.errors?.[0]?.extensions.code).toBe("validation-failed");
    expect((await metadata("export_metadata", {})).body).toMatchObject({
      inherited_roles: [{ role_name: "rm_union", role_set: ["sales", "orders"] }],
    });
  });
});

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/metadata`;
}
