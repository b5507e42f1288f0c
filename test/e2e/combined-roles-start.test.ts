import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraSidecar, type HasuraSidecar } from "../support/hasura-sidecar.js";
import { startMetadataGate, type MetadataGate } from "../support/metadata-gate.js";
import { grantAliceTwoOutputPorts } from "../support/two-port-grants.js";

// Issue 16 §1: in a pod Hasura starts after the sidecar. The first export_metadata neither delays nor fails the
// sidecar's start; the existing combined roles are learnt in the background once the metadata API answers.
const ADMIN_SECRET = "combined-start-admin-secret";
const BOTH = "{ output_port_sales { id region amount } output_port_orders { id region amount } }";
const COMBINED = combinedRoleName("rolemapper_combined_", ["orders_reader", "sales_reader"]);
let gate: MetadataGate;
let stack: HasuraSidecar | undefined;

beforeAll(async () => {
  gate = await startMetadataGate("hold");
  stack = await startHasuraSidecar({
    adminSecret: ADMIN_SECRET,
    standIn: { moreOutputPorts: [{ schema: "public", table: "output_port_orders" }] },
    env: {
      COMBINED_ROLES: "hasura",
      HASURA_METADATA_URL: gate.url,
      COMBINED_ROLE_CREATE_TIMEOUT_MS: "300",
    },
  });
  gate.target = stack.hasura.metadataUrl;
});

afterAll(async () => {
  await stack?.close();
  await gate?.close();
});

const asAlice = async () => {
  const token = await stack!.issuer.sign({ unique_name: "alice@corp.com" });
  return postGraphQL(stack!.hasura.url, BOTH, { headers: { authorization: `Bearer ${token}` } });
};
const lines = (event: string) => stack!.running.log.lines().filter((line) => line.event === event);

describe("combined roles while Hasura's metadata API is not up yet", () => {
  it("starts and is ready while the first export_metadata is still unanswered", async () => {
    await expect.poll(() => gate.held()).toBeGreaterThan(0);
    const ports = stack!.running.sidecar.ports();
    const ready = await fetch(`http://127.0.0.1:${ports.metricsPort}/readyz`);
    expect(ready.status).toBe(200);
    expect(gate.answered()).toEqual([]);
  });

  it("denies a query needing a combined role it cannot create while the metadata API refuses", async () => {
    const { service } = stack!.running.sidecar;
    await grantAliceTwoOutputPorts(service);
    // Made by another replica before this one could learn it.
    const made = await fetch(stack!.hasura.metadataUrl, {
      method: "POST",
      headers: { "x-hasura-admin-secret": ADMIN_SECRET },
      body: JSON.stringify({
        type: "add_inherited_role",
        args: { role_name: COMBINED, role_set: ["orders_reader", "sales_reader"] },
      }),
    });
    expect(made.status).toBe(200);
    gate.mode = "refuse";
    expect((await asAlice()).body.errors?.[0]?.extensions.code).toBe("access-denied");
    expect(lines("decision").at(-1)).toMatchObject({ reason: "combined_role_unavailable" });
    expect(lines("combined_roles_refresh_failed").length).toBeGreaterThan(0);
  });

  it("learns the existing roles once the metadata API answers, and uses them without creating them", async () => {
    gate.mode = "open";
    await expect.poll(() => lines("combined_roles_learned").length, { timeout: 20_000 }).toBe(1);
    expect(await asAlice()).toEqual({
      status: 200,
      body: { data: { output_port_sales: SAMPLE_ROWS, output_port_orders: SAMPLE_ROWS } },
    });
    expect(gate.answered()).not.toContain("add_inherited_role");
    expect(lines("combined_roles_learned")[0]).toMatchObject({ roles: 1 });
  });
});
