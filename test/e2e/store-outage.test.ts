import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPristinePglite } from "../support/pglite-template.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// The store goes away: decisions go on from the last snapshot, then fail closed, then resume when it returns.
const SECRET = "outage-secret";
const QUERY = "{ sales_orders { id } }";
let issuer: JwksIssuer;
let client: SqlClient;
let hasura: HasuraStandIn;
let port: number;
let running: RunningSidecar;
let token: string;

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  client = await openPristinePglite();
  hasura = await startHasuraStandIn({ client, adminSecret: SECRET });
  port = Number(new URL(hasura.url).port);
  running = await startTestSidecar({
    ...issuerEnv(issuer),
    GRAPHQL_URL: hasura.url,
    GRAPHQL_ADMIN_SECRET: SECRET,
    SNAPSHOT_MAX_LAG_S: "0.2",
    SNAPSHOT_MAX_STALENESS_S: "2",
    STORE_TIMEOUT_MS: "500",
  });
  await running.sidecar.service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales",
    componentId: "urn:sales",
    rootFields: ["sales_orders"],
  });
  await running.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales", ["user:alice_corp.com"]);
  token = await issuer.sign({ unique_name: "alice@corp.com" });
});

afterAll(async () => {
  await running?.stop();
  await hasura?.close();
  await client?.close();
  await issuer?.close();
});

const readyz = async () => (await fetch(`${running.adminUrl}/readyz`)).status;

describe("a store outage", () => {
  it("keeps deciding, fails closed past the staleness bound, and recovers by itself", async () => {
    expect((await running.ask(token, QUERY)).status).toBe(200);

    await hasura.close();
    // Within the staleness bound the last snapshot still decides.
    expect(await running.ask(token, QUERY)).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales" },
    });
    await expect(
      running.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales", ["user:bob_corp.com"]),
    ).rejects.toMatchObject({
      code: expect.stringMatching(/^(unavailable|deadline_exceeded)$/),
    });

    await expect
      .poll(async () => (await running.ask(token, QUERY)).status, {
        timeout: 5_000,
        interval: 100,
        message: "decisions fail closed once the snapshot is too stale",
      })
      .toBe(500);
    expect(await running.ask(token, QUERY)).toEqual({ status: 500, body: { error: "System error" } });
    expect(await readyz()).toBe(503);

    hasura = await startHasuraStandIn({ client, adminSecret: SECRET, port, migrate: false });
    await expect
      .poll(async () => (await running.ask(token, QUERY)).status, {
        timeout: 5_000,
        interval: 100,
        message: "decisions resume when the store returns",
      })
      .toBe(200);
    expect(await readyz()).toBe(200);
    // The refused write left nothing behind: alice still holds the role, bob does not.
    expect(await running.sidecar.service.getRoleGrants("sales")).toMatchObject({
      users: ["user:alice_corp.com"],
    });

    const events = running.log.lines().map((line) => line.event);
    expect(events.filter((event) => event === "store_unreachable")).toHaveLength(1);
    expect(events.filter((event) => event === "store_stale")).toHaveLength(1);
    expect(events.filter((event) => event === "store_recovered")).toHaveLength(1);
  });
});
