import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PER_REQUEST_ROWS } from "../../src/store/hasura-combined-ledger.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";

// However many combined roles COMBINED_ROLE_MAX lets the sidecar keep, a call over rows that stand alone sends
// documents of at most PER_REQUEST_ROWS rows; every row is still written, and in name order.
const SECRET = "ledger-requests-secret";
const P = ["orders", "sales"];
const ROLES = 2 * PER_REQUEST_ROWS + 3;

describe("the combined-role ledger through Hasura, over many rows", () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  // The rows' names each request wrote ($n0, $n1, …), by operation.
  const requests: { operation: string; names: string[] }[] = [];
  const counting: typeof fetch = async (input, init) => {
    const { operationName, variables } = JSON.parse(String(init?.body)) as {
      operationName?: string;
      variables?: Record<string, unknown>;
    };
    const names = Object.entries(variables ?? {})
      .filter(([key]) => /^n\d+$/.test(key))
      .sort(([a], [b]) => Number(a.slice(1)) - Number(b.slice(1)))
      .map(([, name]) => String(name));
    requests.push({ operation: operationName ?? "", names });
    return fetch(input, init);
  };

  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    hasura = await startHasuraStandIn({ client: db.client, adminSecret: SECRET });
  });
  afterAll(async () => {
    await hasura?.close();
    await db?.drop();
  });

  it("adopts, claims and forgets them a request per PER_REQUEST_ROWS rows, in name order across requests", async () => {
    const ledger = createHasuraStore({
      url: hasura.url,
      adminSecret: SECRET,
      fetch: counting,
    }).combinedRoleLedger()!;
    const names = Array.from({ length: ROLES }, (_, i) => `rm_${String(i).padStart(4, "0")}`);
    const roles = [...names].reverse().map((name) => ({ name, parents: P }));

    await ledger.adopt(roles, 100);
    const claimed = await ledger.claimIdle(1_000, 2_000, 9_000, ROLES + 10);
    await ledger.forget(names);

    expect(claimed.map((role) => role.name).sort()).toEqual(names);
    expect(await ledger.claimIdle(1_000, 10_000, 19_000, ROLES + 10)).toEqual([]);
    for (const operation of ["adopt", "claim", "forget"]) {
      const sent = requests.filter((request) => request.operation === operation);
      expect(sent.map((request) => request.names.length)).toEqual([PER_REQUEST_ROWS, PER_REQUEST_ROWS, 3]);
      expect(sent.flatMap((request) => request.names)).toEqual(names);
    }
  });

  it("records a use of several roles in one request, all or none", async () => {
    const ledger = createHasuraStore({
      url: hasura.url,
      adminSecret: SECRET,
      fetch: counting,
    }).combinedRoleLedger()!;
    const roles = Array.from({ length: PER_REQUEST_ROWS + 1 }, (_, i) => ({
      name: `rm_use_${i}`,
      parents: P,
    }));
    requests.length = 0;

    const recorded = await ledger.recordUses(roles, 100);

    expect(recorded.added).toHaveLength(PER_REQUEST_ROWS + 1);
    expect(requests.filter((request) => request.operation === "recordUses")).toHaveLength(1);
  });
});
