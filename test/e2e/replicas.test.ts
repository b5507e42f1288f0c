import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { sharedStores, type SharedStore } from "../support/shared-stores.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// Two replicas on one store: a grant revoked through one is denied by the other within SNAPSHOT_MAX_LAG_S.
const MAX_LAG_MS = 2_000;
const QUERY = "{ sales_orders { id } }";

const backends = sharedStores("replica-secret");

describe.each(backends)("two sidecars on one %s store", (_name, openBackend) => {
  let issuer: JwksIssuer;
  let backend: SharedStore | undefined;
  let first: RunningSidecar;
  let second: RunningSidecar;

  beforeAll(async () => {
    backend = await openBackend();
    if (!backend) return;
    issuer = await JwksIssuer.start();
    first = await startTestSidecar({ ...issuerEnv(issuer), ...backend.env });
    second = await startTestSidecar({ ...issuerEnv(issuer), ...backend.env });
  });

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await issuer?.close();
    await backend?.close();
  });

  it("enforces a grant and its revocation made through the other replica within the lag bound", async (context) => {
    if (!backend) return context.skip("no PostgreSQL server here (CI requires one)");
    const token = await issuer.sign({ unique_name: "alice@corp.com" });
    await first.sidecar.service.upsertRole(INTERNAL_CALLER, {
      roleId: "sales",
      componentId: "urn:sales",
      rootFields: ["sales_orders"],
    });
    await first.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales", ["user:alice_corp.com"]);
    await expect
      .poll(async () => (await second.ask(token, QUERY)).status, {
        timeout: MAX_LAG_MS,
        message: "the grant reached the other replica within 2 s",
      })
      .toBe(200);

    await first.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales", []);
    // The replica that wrote enforces it at once; the other within the lag bound.
    expect((await first.ask(token, QUERY)).status).toBe(401);
    await expect
      .poll(async () => (await second.ask(token, QUERY)).status, {
        timeout: MAX_LAG_MS,
        message: "the revocation reached the other replica within 2 s",
      })
      .toBe(401);
  });
});
