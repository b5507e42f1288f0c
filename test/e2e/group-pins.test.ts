import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import {
  entraEnv,
  entraToken,
  entraUser,
  restApi,
  sample,
  scrape,
  type EntraUser,
} from "../support/entra-sidecar.js";
import { GraphStandIn } from "../support/graph-stand-in.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { API_TOKEN, issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

// Issue 13, part 1, through the whole sidecar (embedded store, Entra tokens, groups from the Graph stand-in):
// a group counts as `group:<display name>` only if it is the group the name was granted to.
const QUERY = "{ sales_orders { id } }";
let issuer: JwksIssuer;
let graph: GraphStandIn;
let sidecar: RunningSidecar;
let put: ReturnType<typeof restApi>;
let grpc: RoleMappingApi;
let client: RoleMappingServiceClient;
let roles = 0;

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  graph = await GraphStandIn.start();
  sidecar = await startTestSidecar({ ...issuerEnv(issuer), ...entraEnv(issuer, graph) });
  put = restApi(sidecar);
  client = new RoleMappingServiceClient(sidecar.grpcAddress, credentials.createInsecure());
  grpc = promiseApi(client, bearer(API_TOKEN));
});

afterAll(async () => {
  client?.close();
  await sidecar?.stop();
  await graph?.close();
  await issuer?.close();
});

/** A new role mapping sales_orders; its id. */
async function role(): Promise<string> {
  const roleId = `sales_${roles++}`;
  const answer = await put("/v1/roles", {
    role_id: roleId,
    component_id: `urn:${roleId}`,
    graphql_root_field_names: ["sales_orders"],
  });
  expect(answer.status).toBe(200);
  return roleId;
}

async function ask(user: EntraUser, groups?: readonly string[]) {
  return sidecar.ask(await entraToken(issuer, graph, user, groups), QUERY);
}

describe("group names pinned to Entra object ids", () => {
  it("allows the granted group's member and denies the member of a twin made afterwards", async () => {
    const roleId = await role();
    const readers = graph.createGroup("Sales Readers");
    const alice = entraUser("alice");
    graph.addMember(alice.oid, readers);
    expect(await put("/v1/group_roles", { role_id: roleId, groups: ["group:Sales Readers"] })).toMatchObject({
      status: 200,
    });
    // The attack: any user may create a security group with the privileged name and join it.
    const twin = graph.createGroup("Sales Readers");
    const mallory = entraUser("mallory");
    graph.addMember(mallory.oid, twin);

    expect(await ask(alice)).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_contoso.com", "X-Hasura-Role": roleId },
    });
    expect((await ask(mallory)).status).toBe(401);

    const explained = await grpc.explainDecision({
      token: await entraToken(issuer, graph, mallory),
      user: "",
      groups: [],
      query: QUERY,
      operationName: "",
      requestedRole: "",
    });
    expect(explained).toMatchObject({ allowed: false, reason: "no_roles", groups: [] });
    expect(explained.groupPins).toEqual([
      { objectId: twin.id, name: "Sales Readers", pinnedObjectId: readers.id, matched: false, countsAs: [] },
    ]);
  });

  it("refuses a grant when a twin exists before it, writing nothing", async () => {
    const roleId = await role();
    graph.createGroup("Finance");
    graph.createGroup("Finance");
    graph.createGroup("Audit");
    const refused = await put("/v1/group_roles", {
      role_id: roleId,
      groups: ["group:Audit", "group:Finance"],
    });
    expect(refused).toEqual({
      status: 400,
      body: {
        errors: [
          'groups[1]: "group:Finance" cannot be granted: 2 Entra groups hold it, and a granted group name must ' +
            "name exactly one group",
        ],
      },
    });
    expect(await grpc.getRoleGrants({ roleId })).toMatchObject({ groups: [] });
    expect(sidecar.sidecar.sync.fresh().pins.objectIdOf("group:Audit")).toBeUndefined();
    const nobody = await put("/v1/group_roles", { role_id: roleId, groups: ["group:Nobody"] });
    expect(nobody.body).toEqual({
      errors: [
        'groups[0]: "group:Nobody" cannot be granted: no Entra group holds it, and a granted group name must ' +
          "name exactly one group",
      ],
    });
  });

  it("works again for a group deleted and made anew once the name is granted again", async () => {
    const roleId = await role();
    const ops = graph.createGroup("Ops");
    expect((await put("/v1/group_roles", { role_id: roleId, groups: ["group:Ops"] })).status).toBe(200);
    graph.deleteGroup(ops.id);
    const remade = graph.createGroup("Ops");
    const carol = entraUser("carol");
    graph.addMember(carol.oid, remade);
    expect((await ask(carol)).status).toBe(401);

    const regranted = await grpc.setGroupRoles({ roleId, groups: ["group:Ops"] });
    expect(regranted.groups).toEqual(["group:Ops"]);
    expect(await ask(carol)).toMatchObject({ status: 200, body: { "X-Hasura-Role": roleId } });
  });

  it("answers a warm caller without calling Graph or the store for pins", async () => {
    const roleId = await role();
    const warm = graph.createGroup("Warm");
    const dave = entraUser("dave");
    graph.addMember(dave.oid, warm);
    await put("/v1/group_roles", { role_id: roleId, groups: ["group:Warm"] });
    const token = await entraToken(issuer, graph, dave);
    expect((await sidecar.ask(token, QUERY)).status).toBe(200);
    // Pins are read from the store only with whole snapshot loads (the grant above triggers one): wait until no
    // load is half done, then count pin writes and pin reads beyond those loads.
    const settled = async () => {
      await expect
        .poll(async () => pinCalls(await scrape(sidecar)).readsBeyondLoads, { timeout: 5_000 })
        .toBe(0);
      return { graph: graph.graphRequests, ...pinCalls(await scrape(sidecar)) };
    };
    const before = await settled();
    for (let i = 0; i < 20; i++) expect((await sidecar.ask(token, QUERY)).status).toBe(200);
    expect(await settled()).toEqual(before);
  });
});

describe("a token's own groups (object ids) go through the same pins", () => {
  let trusting: RunningSidecar;
  beforeAll(async () => {
    trusting = await startTestSidecar({
      ...issuerEnv(issuer),
      ...entraEnv(issuer, graph),
      AZURE_TRUST_TOKEN_GROUPS: "true",
    });
  });
  afterAll(() => trusting?.stop());

  it("counts an id under the name pinned to it, and a twin's id under none", async () => {
    const roleId = `tokens_${roles++}`;
    const granted = graph.createGroup("Token Readers");
    const trustingPut = restApi(trusting);
    await trustingPut("/v1/roles", {
      role_id: roleId,
      component_id: `urn:${roleId}`,
      graphql_root_field_names: ["sales_orders"],
    });
    const grant = await trustingPut("/v1/group_roles", { role_id: roleId, groups: ["group:Token Readers"] });
    expect(grant.status).toBe(200);
    const twin = graph.createGroup("Token Readers");
    const erin = entraUser("erin");
    const ask = async (groups: string[]) =>
      trusting.ask(await entraToken(issuer, graph, erin, groups), QUERY);
    expect(await ask([granted.id])).toMatchObject({ status: 200, body: { "X-Hasura-Role": roleId } });
    expect((await ask([twin.id])).status).toBe(401);
  });
});

// Pin writes so far, and pin reads not made by a snapshot load (each load reads the mappings, then the pins).
function pinCalls(metrics: string): { writes: number; readsBeyondLoads: number } {
  const calls = (method: string) =>
    sample(metrics, `rolemapper_store_call_duration_seconds_count{method="${method}"}`);
  return { writes: calls("pinGroups"), readsBeyondLoads: calls("loadGroupPins") - calls("loadAll") };
}
