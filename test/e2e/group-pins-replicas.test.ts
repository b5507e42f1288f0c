import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
import { sharedStores, type SharedStore } from "../support/shared-stores.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

// Issue 13, part 1: grants written before pins existed (or with SQL) are pinned on first use and stored, so two
// replicas on one store agree; an ambiguous one matches nobody, logged once and counted.
const QUERY = "{ sales_orders { id } }";
const LAG = { timeout: 5_000 };

const backends = sharedStores("pins-secret");

describe.each(backends)("group pins of legacy grants, two sidecars on one %s store", (_name, openBackend) => {
  let backend: SharedStore | undefined;
  let issuer: JwksIssuer;
  let graph: GraphStandIn;
  let first: RunningSidecar;
  let second: RunningSidecar;

  beforeAll(async () => {
    backend = await openBackend();
    if (!backend) return;
    issuer = await JwksIssuer.start();
    graph = await GraphStandIn.start();
    // Polling every 0.2 s rather than every 2 s: rows written with SQL reach both replicas without a long wait.
    const env = { ...entraEnv(issuer, graph), ...backend.env, SNAPSHOT_MAX_LAG_S: "0.2" };
    first = await startTestSidecar({ ...issuerEnv(issuer), ...env });
    second = await startTestSidecar({ ...issuerEnv(issuer), ...env });
  });

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await graph?.close();
    await issuer?.close();
    await backend?.close();
  });

  // A role granted to `group` by a row written with SQL, as before pins existed; once both replicas see it.
  async function legacyGrant(roleId: string, group: string): Promise<void> {
    const put = restApi(first);
    const created = await put("/v1/roles", {
      role_id: roleId,
      component_id: `urn:${roleId}`,
      graphql_root_field_names: ["sales_orders"],
    });
    expect(created.status).toBe(200);
    await backend!.sql.query(`INSERT INTO rolemapping.group_roles ("group", role_id) VALUES ($1, $2)`, [
      group,
      roleId,
    ]);
    for (const replica of [first, second]) {
      await expect.poll(() => replica.sidecar.sync.fresh().rolesOfSubject(group).size, LAG).toBe(1);
    }
  }

  async function ask(replica: RunningSidecar, user: EntraUser) {
    return replica.ask(await entraToken(issuer, graph, user), QUERY);
  }

  async function storedPin(group: string): Promise<unknown> {
    const rows = await backend!.sql.query(`SELECT object_id FROM rolemapping.group_pins WHERE "group" = $1`, [
      group,
    ]);
    return rows[0]?.object_id;
  }

  it("pins a legacy grant on first use and stores it, so the other replica agrees without asking Graph", async (context) => {
    if (!backend) return context.skip("no PostgreSQL server here (CI requires one)");
    const sales = graph.createGroup("Legacy Sales");
    const dave = entraUser("dave");
    graph.addMember(dave.oid, sales);
    await legacyGrant("legacy_sales", "group:Legacy Sales");
    expect(await storedPin("group:Legacy Sales")).toBeUndefined();

    expect(await ask(first, dave)).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": "legacy_sales" },
    });
    expect(await storedPin("group:Legacy Sales")).toBe(sales.id);
    expect(first.log.lines().filter((line) => line.event === "group_pinned")).toMatchObject([
      { group: "group:Legacy Sales", object_id: sales.id },
    ]);

    // A twin made now changes nothing: the other replica reads the stored pin.
    const twin = graph.createGroup("Legacy Sales");
    const erin = entraUser("erin");
    graph.addMember(erin.oid, twin);
    await expect
      .poll(() => second.sidecar.sync.fresh().pins.objectIdOf("group:Legacy Sales"), LAG)
      .toBe(sales.id);
    const lookups = graph.groupLookups;
    expect((await ask(second, erin)).status).toBe(401);
    expect((await ask(second, dave)).status).toBe(200);
    expect((await ask(first, erin)).status).toBe(401);
    expect(graph.groupLookups).toBe(lookups);
  });

  it("lets an ambiguous legacy name match nobody, with one error line and the metric counted", async (context) => {
    if (!backend) return context.skip("no PostgreSQL server here (CI requires one)");
    const shared = graph.createGroup("Shared Ops");
    graph.createGroup("Shared Ops");
    const frank = entraUser("frank");
    graph.addMember(frank.oid, shared);
    await legacyGrant("legacy_shared", "group:Shared Ops");

    for (let i = 0; i < 3; i++) expect((await ask(first, frank)).status).toBe(401);
    expect(first.log.lines().filter((line) => line.event === "group_pin_unresolved")).toMatchObject([
      { level: 50, group: "group:Shared Ops", holders: 2 },
    ]);
    const metrics = await scrape(first);
    expect(sample(metrics, 'rolemapper_group_pins_first_use_total{outcome="ambiguous"}')).toBe(1);
    expect(await storedPin("group:Shared Ops")).toBeUndefined();
  });
});
