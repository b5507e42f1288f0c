import { describe, expect, it } from "vitest";
import { adminServer } from "./admin-fixture.js";

const TOKEN = "rest-consistency-token-0123";

const admin = adminServer({ tokens: TOKEN });

async function put(path: string, body: object): Promise<number> {
  const response = await fetch(admin.base + path, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await response.text();
  return response.status;
}

async function webhookFor(query: string) {
  return admin.fixture.authorizer.authorize({
    headers: new Map([["authorization", "Bearer alice-token"]]),
    request: { query, operationName: undefined },
  });
}

describe("writes through REST and the next decision", () => {
  it("are seen by the very next decision on the same replica", async () => {
    await put("/v1/roles", {
      role_id: "crm.read",
      component_id: "urn:crm",
      graphql_root_field_names: ["crm"],
    });
    expect((await webhookFor("{ crm { id } }")).outcome).toBe("deny");
    await put("/v1/user_roles", { role_id: "crm.read", users: ["user:alice_corp.com"] });
    expect(await webhookFor("{ crm { id } }")).toMatchObject({ outcome: "allow", role: "crm.read" });
    await put("/v1/user_roles", { role_id: "crm.read", users: [] });
    expect((await webhookFor("{ crm { id } }")).outcome).toBe("deny");
    await put("/v1/group_roles", { role_id: "crm.read", groups: ["group:analysts"] });
    expect((await webhookFor("{ crm { id } }")).outcome).toBe("allow");
    const deleted = await fetch(`${admin.base}/v1/roles/crm.read`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(deleted.status).toBe(204);
    expect((await webhookFor("{ crm { id } }")).outcome).toBe("deny");
  });

  it("50 parallel PUT /v1/user_roles on one role leave exactly one of the lists, and decisions agree", async () => {
    await put("/v1/roles", { role_id: "race", component_id: "urn:race", graphql_root_field_names: ["race"] });
    const lists = Array.from({ length: 50 }, (_, i) =>
      Array.from({ length: 1 + (i % 5) }, (_, j) => `user:w${i}_m${j}`),
    );
    const statuses = await Promise.all(
      lists.map((users) => put("/v1/user_roles", { role_id: "race", users })),
    );
    expect(statuses.every((status) => status === 200)).toBe(true);

    const stored = [...(await admin.fixture.service.getRoleGrants("race")).users].sort();
    const winners = lists.filter((list) => JSON.stringify([...list].sort()) === JSON.stringify(stored));
    expect(winners).toHaveLength(1);
    for (const list of lists) {
      for (const user of list) {
        const explanation = await admin.fixture.authorizer.explain({ user, groups: [], query: "{ race }" });
        expect(explanation.allowed, user).toBe(list === winners[0]);
      }
    }
  });
});
