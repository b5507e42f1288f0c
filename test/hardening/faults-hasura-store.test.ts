import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import {
  decideOrders as decide,
  lockMappingTables,
  numberedUsers as users,
  startReplicaPair,
  tenWritesAtOnce,
  writeKilledMidway,
  type ReplicaPair,
} from "./support/replica-pair.js";

const run = await shouldRunPostgres();
const ADMIN_SECRET = "hardening-hasura-faults-secret";

// The same faults as faults-store.test.ts, with the store reached through Hasura (the stand-in on PostgreSQL):
// the sidecar sees them only as Hasura's errors and its own timeouts.
describe.skipIf(!run)("faults of the Hasura store, seen through the whole sidecar", () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  let pair: ReplicaPair;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    hasura = await startHasuraStandIn({ client: db.client, adminSecret: ADMIN_SECRET });
    pair = await startReplicaPair({
      ROLEMAPPING_STORE: "hasura",
      GRAPHQL_URL: hasura.url,
      GRAPHQL_ADMIN_SECRET: ADMIN_SECRET,
    });
    await pair.patientApi.upsertRole({ roleId: "r1", componentId: "c1", graphqlRootFieldNames: ["orders"] });
  });
  afterAll(async () => {
    await pair?.stop();
    await hasura?.close();
    await db?.drop();
  });

  // Hasura commits the writes it had queued behind the lock one after another (each bumping the change
  // marker): the store has settled once the stand-in has no request left in hand.
  const settled = () => vi.waitFor(() => expect(hasura.inFlight()).toBe(0), { timeout: 20_000 });

  it("Hasura's database connection killed in the middle of a write: UNAVAILABLE, the previous grants intact, the next write works", async () => {
    const failure = await writeKilledMidway(pair, db.url!);
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(failure.details).toMatch(/^Hasura failed set user roles/);

    expect((await pair.patientApi.getRoleGrants({ roleId: "r1" })).users).toEqual(
      users("before", 2_000).sort(),
    );
    expect(await decide(pair.patient, "before0")).toBe(200);
    expect(await decide(pair.patient, "after0")).toBe(401);
    // Hasura's pool replaced the killed connection.
    expect((await pair.patientApi.setUserRoles({ roleId: "r1", users: ["user:next"] })).users).toEqual([
      "user:next",
    ]);
    expect(await decide(pair.patient, "next")).toBe(200);
    // The other replica follows the store too.
    await expect.poll(() => decide(pair.impatient, "next"), { timeout: 10_000 }).toBe(200);
    expect(await decide(pair.impatient, "before0")).toBe(401);
  });

  it("Hasura slow: writes fail with DEADLINE_EXCEEDED of unknown outcome, decisions go on from the snapshot and fail closed past the bound, then every replica agrees with what the store holds", async () => {
    await pair.patientApi.setUserRoles({ roleId: "r1", users: ["user:steady"] });
    await expect.poll(() => decide(pair.impatient, "steady"), { timeout: 10_000 }).toBe(200);

    const lock = await lockMappingTables(db.url!);
    let requestsWhileSlow: number;
    try {
      const requestsBefore = hasura.requestCount();
      // Ten writes at once: each refused at the sidecar's deadline, none hanging, each saying that it may land.
      const writes = await tenWritesAtOnce(pair);
      for (const write of writes) {
        expect(write.code).toBe(status.DEADLINE_EXCEEDED);
        expect(write.details).toContain("the write may still be applied");
      }
      await expect.poll(() => decide(pair.impatient, "steady"), { timeout: 10_000 }).toBe(500);
      expect((await fetch(`${pair.impatient.webhookUrl}/readyz`)).status).toBe(503);
      expect(await decide(pair.patient, "steady")).toBe(200);
      expect(await decide(pair.patient, "stranger")).toBe(401);
      requestsWhileSlow = hasura.requestCount() - requestsBefore;
    } finally {
      await lock.release();
    }
    // No pile-up: the writes and the snapshot polls of two replicas over a few seconds, nothing retried in a loop.
    expect(requestsWhileSlow).toBeLessThan(200);

    // Hasura finishes what it was given: the store ends with the steady user or exactly one of the refused
    // lists, never a mix, and both replicas decide by it.
    await settled();
    const held = (await pair.patientApi.getRoleGrants({ roleId: "r1" })).users;
    expect(held).toHaveLength(1);
    expect(["user:steady", ...users("w", 10)]).toContain(held[0]);
    const holder = held[0]!.slice("user:".length);
    for (const replica of [pair.patient, pair.impatient]) {
      await expect.poll(() => decide(replica, holder), { timeout: 10_000 }).toBe(200);
      for (const other of ["steady", ...users("w", 10).map((u) => u.slice("user:".length))]) {
        if (other !== holder) expect(await decide(replica, other)).toBe(401);
      }
    }
  });
});
