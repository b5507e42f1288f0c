import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";
import { shouldRunPostgres } from "../support/databases.js";
import { freePort } from "../support/free-port.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { startTwoCombinedSidecars, type TwoCombinedSidecars } from "../support/two-combined-sidecars.js";
import { grantAliceTwoOutputPorts } from "../support/two-port-grants.js";

// Issue 16 §1: a DeleteRole through one sidecar drops the combined roles of the deleted role; the other sidecar
// forgets them as soon as the deletion reaches its snapshot (the change journal), not at its next export (an
// hour away here), so that once the role is back it makes the combined role again instead of answering it.
const SECRET = "combined-replicas-admin-secret";
const BOTH = "{ output_port_sales { id region amount } output_port_orders { id region amount } }";
const COMBINED = combinedRoleName("rolemapper_combined_", ["orders_reader", "sales_reader"]);
const runPostgres = await shouldRunPostgres();
let two: TwoCombinedSidecars;

beforeAll(async () => {
  if (runPostgres) two = await startTwoCombinedSidecars(SECRET, { SNAPSHOT_REFRESH_S: "3600" });
});
afterAll(() => two?.close());

const token = () => two.issuer.sign({ unique_name: "alice@corp.com" });
const aliceRoles = (replica: 0 | 1) =>
  two.sidecars[replica].sidecar.sync.fresh().rolesOf("user:alice_corp.com", []).size;

describe.skipIf(!runPostgres)("combined roles of a role deleted through another sidecar", () => {
  it("are forgotten once the deletion reaches this sidecar, and made again when the role is back", async () => {
    const [first, second] = two.sidecars;
    const throughHasura = await postGraphQL(two.hasura.url, BOTH, {
      headers: { authorization: `Bearer ${await token()}` },
    });
    expect(throughHasura.status).toBe(200);
    await expect.poll(() => aliceRoles(1)).toBe(2);
    expect(await second.ask(await token(), BOTH)).toMatchObject({ body: { "X-Hasura-Role": COMBINED } });

    await first.sidecar.service.deleteRole(INTERNAL_CALLER, "orders_reader");
    expect(await two.exported()).toEqual([]);
    await expect
      .poll(() => two.lines("combined_role_forgotten"))
      .toEqual([expect.objectContaining({ replica: 1, role: COMBINED, deleted_role: "orders_reader" })]);

    await grantAliceTwoOutputPorts(first.sidecar.service);
    await expect.poll(() => aliceRoles(1)).toBe(2);
    expect(await second.ask(await token(), BOTH)).toMatchObject({ body: { "X-Hasura-Role": COMBINED } });
    expect(await two.exported()).toEqual([COMBINED]);
  });
});

describe.skipIf(!runPostgres)("two combined-role sidecars failing to start", () => {
  it("leave nothing listening: the first is stopped when the second cannot start", async () => {
    // Both sidecars are given one metrics port: the first binds it, the second cannot.
    const port = await freePort();
    await expect(startTwoCombinedSidecars(SECRET, { METRICS_PORT: String(port) })).rejects.toThrow(
      /EADDRINUSE/,
    );
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
    });
    expect(free).toBe(true);
  });
});
