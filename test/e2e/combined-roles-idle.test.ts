import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { freePort } from "../support/free-port.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { grantAliceTwoOutputPorts } from "../support/two-port-grants.js";

// Issue 16 §1, COMBINED_ROLE_IDLE_S: two sidecars on one PostgreSQL store, Hasura (the stand-in, on the same
// database) calling the first. Their clock is moved 7 days ahead: the combined role nobody used since is dropped
// by one of them, neither answers it in between, and the next query needing it makes it again.
const SECRET = "combined-idle-admin-secret";
const BOTH = "{ output_port_sales { id region amount } output_port_orders { id region amount } }";
const COMBINED = combinedRoleName("rolemapper_combined_", ["orders_reader", "sales_reader"]);
const DAY_MS = 24 * 3600_000;
const runPostgres = await shouldRunPostgres();

let db: TestDatabase;
let issuer: JwksIssuer;
let hasura: HasuraStandIn;
const sidecars: RunningSidecar[] = [];
const clock = { offsetMs: 0 };

beforeAll(async () => {
  if (!runPostgres) return;
  db = await openTestDatabase("postgres");
  issuer = await JwksIssuer.start();
  const webhookPort = await freePort();
  hasura = await startHasuraStandIn({
    client: db.client,
    adminSecret: SECRET,
    authHook: `http://127.0.0.1:${webhookPort}/v1/authenticate`,
    moreOutputPorts: [{ schema: "public", table: "output_port_orders" }],
  });
  const env = {
    DATABASE_URL: db.url ?? "",
    ROLEMAPPING_MIGRATE: "true",
    COMBINED_ROLES: "hasura",
    HASURA_METADATA_URL: hasura.metadataUrl,
    GRAPHQL_ADMIN_SECRET: SECRET,
    SNAPSHOT_REFRESH_S: "1",
    SNAPSHOT_MAX_LAG_S: "0.2",
  };
  const combinedRolesClock = {
    now: () => Date.now() + clock.offsetMs,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };
  sidecars.push(
    await startTestSidecar(
      { ...issuerEnv(issuer), ...env, WEBHOOK_PORT: String(webhookPort) },
      { combinedRolesClock },
    ),
  );
  sidecars.push(await startTestSidecar({ ...issuerEnv(issuer), ...env }, { combinedRolesClock }));
  const { service } = sidecars[0]!.sidecar;
  await grantAliceTwoOutputPorts(service);
});

afterAll(async () => {
  for (const sidecar of sidecars) await sidecar.stop();
  await hasura?.close();
  await issuer?.close();
  await db?.drop();
});

const token = () => issuer.sign({ unique_name: "alice@corp.com" });
const throughHasura = async () =>
  postGraphQL(hasura.url, BOTH, { headers: { authorization: `Bearer ${await token()}` } });
const exported = async () => {
  const response = await fetch(hasura.metadataUrl, {
    method: "POST",
    headers: { "x-hasura-admin-secret": SECRET },
    body: JSON.stringify({ type: "export_metadata", args: {} }),
  });
  const roles = ((await response.json()) as { inherited_roles?: { role_name: string }[] }).inherited_roles;
  return (roles ?? []).map((role) => role.role_name);
};
const lines = (event: string) =>
  sidecars.flatMap((sidecar, i) =>
    sidecar.log
      .lines()
      .filter((line) => line.event === event)
      .map((line) => ({ replica: i, ...line })),
  );

describe.skipIf(!runPostgres)("combined roles unused for COMBINED_ROLE_IDLE_S, two sidecars", () => {
  it("are made on first need and answered by both replicas", async () => {
    expect(await throughHasura()).toEqual({
      status: 200,
      body: { data: { output_port_sales: SAMPLE_ROWS, output_port_orders: SAMPLE_ROWS } },
    });
    await expect
      .poll(() => sidecars[1]!.sidecar.sync.fresh().rolesOf("user:alice_corp.com", []).size)
      .toBe(2);
    expect(await sidecars[1]!.ask(await token(), BOTH)).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": COMBINED },
    });
    expect(await exported()).toEqual([COMBINED]);
  });

  it("are dropped by exactly one replica once unused for the idle period, and made again when needed", async () => {
    clock.offsetMs += 8 * DAY_MS;
    await expect.poll(() => lines("combined_role_dropped").length, { timeout: 20_000 }).toBe(1);
    expect(lines("combined_role_dropped")[0]).toMatchObject({
      role: COMBINED,
      parent_roles: ["orders_reader", "sales_reader"],
      reason: "idle",
      idle_s: 604_800,
    });
    expect(await exported()).toEqual([]);

    // Neither replica answers it from memory any more: the second makes it again first.
    const created = lines("combined_role_created").length;
    expect(await sidecars[1]!.ask(await token(), BOTH)).toMatchObject({
      body: { "X-Hasura-Role": COMBINED },
    });
    expect(await exported()).toEqual([COMBINED]);
    expect(lines("combined_role_created").length).toBe(created + 1);
    expect((await throughHasura()).body.data?.output_port_orders).toEqual(SAMPLE_ROWS);
    expect(lines("combined_role_dropped")).toHaveLength(1);
  });
});
