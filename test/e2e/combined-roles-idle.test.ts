import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { shouldRunPostgres } from "../support/databases.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startTwoCombinedSidecars, type TwoCombinedSidecars } from "../support/two-combined-sidecars.js";

// Issue 16 §1, COMBINED_ROLE_IDLE_S: two sidecars on one PostgreSQL store, Hasura (the stand-in, on the same
// database) calling the first. Their clock is moved 7 days ahead: the combined role nobody used since is dropped
// by one of them, neither answers it in between, and the next query needing it makes it again.
const SECRET = "combined-idle-admin-secret";
const BOTH = "{ output_port_sales { id region amount } output_port_orders { id region amount } }";
const COMBINED = combinedRoleName("rolemapper_combined_", ["orders_reader", "sales_reader"]);
const DAY_MS = 24 * 3600_000;
const runPostgres = await shouldRunPostgres();

let two: TwoCombinedSidecars;
const clock = { offsetMs: 0 };

beforeAll(async () => {
  if (!runPostgres) return;
  const combinedRolesClock = {
    now: () => Date.now() + clock.offsetMs,
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };
  two = await startTwoCombinedSidecars(SECRET, { SNAPSHOT_REFRESH_S: "1" }, combinedRolesClock);
});

afterAll(() => two?.close());

const token = () => two.issuer.sign({ unique_name: "alice@corp.com" });
const throughHasura = async () =>
  postGraphQL(two.hasura.url, BOTH, { headers: { authorization: `Bearer ${await token()}` } });
const exported = () => two.exported();
const lines = (event: string) => two.lines(event);

describe.skipIf(!runPostgres)("combined roles unused for COMBINED_ROLE_IDLE_S, two sidecars", () => {
  it("are made on first need and answered by both replicas", async () => {
    expect(await throughHasura()).toEqual({
      status: 200,
      body: { data: { output_port_sales: SAMPLE_ROWS, output_port_orders: SAMPLE_ROWS } },
    });
    await expect
      .poll(() => two.sidecars[1].sidecar.sync.fresh().rolesOf("user:alice_corp.com", []).size)
      .toBe(2);
    expect(await two.sidecars[1].ask(await token(), BOTH)).toMatchObject({
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
    expect(await two.sidecars[1].ask(await token(), BOTH)).toMatchObject({
      body: { "X-Hasura-Role": COMBINED },
    });
    expect(await exported()).toEqual([COMBINED]);
    expect(lines("combined_role_created").length).toBe(created + 1);
    expect((await throughHasura()).body.data?.output_port_orders).toEqual(SAMPLE_ROWS);
    expect(lines("combined_role_dropped")).toHaveLength(1);
  });
});
