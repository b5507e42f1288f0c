import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import {
  bearer,
  promiseApi,
  startGrpcServer,
  type RoleMappingApi,
  type RunningGrpcServer,
} from "./client.js";
import { openApiFixture, type ApiFixture } from "./harness.js";

const TOKEN = "consistency-token-0123456789";

let fixture: ApiFixture;
let running: RunningGrpcServer;
let api: RoleMappingApi;

beforeAll(async () => {
  fixture = await openApiFixture();
  running = await startGrpcServer({
    service: fixture.service,
    authorizer: fixture.authorizer,
    health: () => true,
    auth: { tokens: ApiTokens.load({ tokens: TOKEN }) },
    logger: fixture.log,
  });
  api = promiseApi(running.client(), bearer(TOKEN));
});

afterAll(async () => {
  await running?.stop();
  await fixture?.close();
});

/** What the webhook would answer alice (token `alice-token`, group analysts) for `query`. */
async function webhookFor(query: string) {
  return fixture.authorizer.authorize({
    headers: new Map([["authorization", "Bearer alice-token"]]),
    request: { query, operationName: undefined },
  });
}

describe("writes through gRPC and the next decision", () => {
  it("are seen by the very next decision on the same replica", async () => {
    await api.upsertRole({
      roleId: "crm.read",
      componentId: "urn:cmp:crm",
      graphqlRootFieldNames: ["crm_select"],
    });
    expect((await webhookFor("{ crm_select { id } }")).outcome).toBe("deny");

    await api.setUserRoles({ roleId: "crm.read", users: ["user:alice_corp.com"] });
    expect(await webhookFor("{ crm_select { id } }")).toMatchObject({ outcome: "allow", role: "crm.read" });

    await api.setUserRoles({ roleId: "crm.read", users: [] });
    expect((await webhookFor("{ crm_select { id } }")).outcome).toBe("deny");

    await api.setGroupRoles({ roleId: "crm.read", groups: ["group:analysts"] });
    expect(await webhookFor("{ crm_select { id } }")).toMatchObject({ outcome: "allow", role: "crm.read" });

    // Root fields are replaced: the old field is no longer covered, the new one is.
    await api.upsertRole({
      roleId: "crm.read",
      componentId: "urn:cmp:crm",
      graphqlRootFieldNames: ["crm_v2"],
    });
    expect((await webhookFor("{ crm_select { id } }")).outcome).toBe("deny");
    expect((await webhookFor("{ crm_v2 { id } }")).outcome).toBe("allow");

    await api.deleteRole({ roleId: "crm.read" });
    expect(await webhookFor("{ crm_v2 { id } }")).toMatchObject({ outcome: "deny", reason: "no_roles" });
  });

  it("50 parallel SetUserRoles on one role leave exactly one of the lists, and decisions agree", async () => {
    await api.upsertRole({
      roleId: "race.read",
      componentId: "urn:cmp:race",
      graphqlRootFieldNames: ["race"],
    });
    const lists = Array.from({ length: 50 }, (_, i) =>
      Array.from({ length: 1 + (i % 7) }, (_, j) => `user:writer${i}_member${j}`),
    );
    const results = await Promise.allSettled(
      lists.map((users) => api.setUserRoles({ roleId: "race.read", users })),
    );
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);

    const stored = [...(await api.getRoleGrants({ roleId: "race.read" })).users].sort();
    const winners = lists.filter((list) => JSON.stringify([...list].sort()) === JSON.stringify(stored));
    expect(winners).toHaveLength(1);

    for (const list of lists) {
      const explanation = await fixture.authorizer.explain({ user: list[0], groups: [], query: "{ race }" });
      expect(explanation.allowed, list[0]).toBe(list === winners[0]);
      if (list === winners[0]) expect(explanation.role).toBe("race.read");
    }
  });
});
