import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlClient } from "../../src/store/sql-client.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import type { HasuraStandIn } from "../support/hasura/server.js";
import { startHasuraSidecar, type HasuraSidecar } from "../support/hasura-sidecar.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import type { RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// Client → Hasura (stand-in) → the sidecar's webhook → data; the sidecar keeps its mappings in Hasura too.
const ADMIN_SECRET = "e2e-admin-secret";
let stack: HasuraSidecar | undefined;
let issuer: JwksIssuer;
let client: SqlClient;
let hasura: HasuraStandIn;
let running: RunningSidecar;

beforeAll(async () => {
  stack = await startHasuraSidecar({ adminSecret: ADMIN_SECRET });
  ({ issuer, client, hasura, running } = stack);
  await running.sidecar.service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales_reader",
    componentId: "urn:sales",
    rootFields: ["output_port_sales"],
  });
  await running.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales_reader", ["user:alice_corp.com"]);
});

afterAll(async () => {
  await stack?.close();
});

async function asUser(name: string, query: string) {
  const token = await issuer.sign({ unique_name: name });
  return postGraphQL(hasura.url, query, { headers: { Authorization: `Bearer ${token}` } });
}

describe("end to end through Hasura", () => {
  it("serves data to a caller whose role maps the root field", async () => {
    const answer = await asUser(
      "alice@corp.com",
      "{ output_port_sales(order_by: {id: asc}) { id region amount } }",
    );
    expect(answer).toEqual({ status: 200, body: { data: { output_port_sales: SAMPLE_ROWS } } });
  });

  it("denies a caller without a role, in Hasura's words", async () => {
    const answer = await asUser("mallory@corp.com", "{ output_port_sales { id } }");
    expect(answer.body.errors?.[0]).toMatchObject({
      message: "Authentication hook unauthorized this request",
      extensions: { code: "access-denied" },
    });
  });

  it("denies a root field the caller's roles do not map", async () => {
    const answer = await asUser(
      "alice@corp.com",
      "{ output_port_sales { id } rolemapping_roles { role_id } }",
    );
    expect(answer.body.errors?.[0]?.extensions.code).toBe("access-denied");
  });

  it("denies a mutation, leaving the data as it was", async () => {
    const answer = await asUser(
      "alice@corp.com",
      "mutation { delete_output_port_sales(where: {}) { affected_rows } }",
    );
    expect(answer.body.errors?.[0]?.extensions.code).toBe("access-denied");
    expect(await client.query("SELECT count(*)::int AS n FROM public.output_port_sales")).toEqual([{ n: 2 }]);
  });

  it("stops serving a user at once when the grant is withdrawn through the API", async () => {
    await running.sidecar.service.setUserRoles(INTERNAL_CALLER, "sales_reader", []);
    const answer = await asUser("alice@corp.com", "{ output_port_sales { id } }");
    expect(answer.body.errors?.[0]?.extensions.code).toBe("access-denied");
  });
});
