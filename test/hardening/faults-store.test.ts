import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { connectionCount } from "./support/pg-faults.js";
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

describe.skipIf(!run)("faults of the PostgreSQL store, seen through the whole sidecar", () => {
  let db: TestDatabase;
  let database: string;
  let pair: ReplicaPair;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    database = new URL(db.url!).pathname.slice(1);
    pair = await startReplicaPair({
      ROLEMAPPING_STORE: "postgres",
      DATABASE_URL: db.url!,
      ROLEMAPPING_MIGRATE: "true",
    });
    await pair.patientApi.upsertRole({ roleId: "r1", componentId: "c1", graphqlRootFieldNames: ["orders"] });
  });
  afterAll(async () => {
    await pair?.stop();
    await db?.drop();
  });

  it("the store connection killed in the middle of a write: UNAVAILABLE, the previous grants intact, the next write works", async () => {
    expect((await writeKilledMidway(pair, db.url!)).code).toBe(status.UNAVAILABLE);

    const grants = await pair.patientApi.getRoleGrants({ roleId: "r1" });
    expect(grants.users).toEqual(users("before", 2_000).sort());
    // Decisions on this replica follow the store, not the half-done write.
    expect(await decide(pair.patient, "before0")).toBe(200);
    expect(await decide(pair.patient, "after0")).toBe(401);
    // The pool replaced the killed connection.
    expect((await pair.patientApi.setUserRoles({ roleId: "r1", users: ["user:next"] })).users).toEqual([
      "user:next",
    ]);
    expect(await decide(pair.patient, "next")).toBe(200);
  });

  it("the store slow: writes fail with DEADLINE_EXCEEDED, decisions go on from the snapshot within the staleness bound and fail closed past it, then recover", async () => {
    await pair.patientApi.setUserRoles({ roleId: "r1", users: ["user:steady"] });
    // Wait until the impatient replica has seen that write.
    await expect.poll(() => decide(pair.impatient, "steady"), { timeout: 10_000 }).toBe(200);

    const lock = await lockMappingTables(db.url!);
    try {
      // Ten writes at once: each is refused after the statement timeout; none hangs.
      const writes = await tenWritesAtOnce(pair);
      expect(new Set(writes.map((failure) => failure.code))).toEqual(new Set([status.DEADLINE_EXCEEDED]));
      // Past its staleness bound the impatient replica fails closed (500) and reports itself not ready...
      await expect.poll(() => decide(pair.impatient, "steady"), { timeout: 10_000 }).toBe(500);
      expect((await fetch(`${pair.impatient.webhookUrl}/readyz`)).status).toBe(503);
      // ...while the patient one, within its bound, goes on deciding from its snapshot.
      expect(await decide(pair.patient, "steady")).toBe(200);
      expect(await decide(pair.patient, "stranger")).toBe(401);
      // No pile-up: the replicas hold no more connections than their pools allow (10 each), plus the lock's.
      expect(await connectionCount(db.url!, database)).toBeLessThanOrEqual(2 * 10 + 2);
    } finally {
      await lock.release();
    }
    await expect.poll(() => decide(pair.impatient, "steady"), { timeout: 10_000 }).toBe(200);
    // None of the refused writes was applied later.
    expect((await pair.impatientApi.getRoleGrants({ roleId: "r1" })).users).toEqual(["user:steady"]);
  });
});
