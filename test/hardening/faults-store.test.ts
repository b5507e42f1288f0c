import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, failureOf, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { postWebhook } from "./support/http.js";
import { connectionCount, holdLock, query, waitForLockWaiter } from "./support/pg-faults.js";
import { startTestSidecar, type RunningSidecar } from "./support/sidecar.js";

const run = await shouldRunPostgres();

/** Users u0…u(n-1) with a prefix. */
const users = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `user:${prefix}${i}`);

describe.skipIf(!run)("faults of the PostgreSQL store, seen through the whole sidecar", () => {
  let db: TestDatabase;
  let dataDir: string;
  let database: string;
  // Two replicas of one deployment on one database: `patient` waits up to 10 s on the store and decides from a
  // snapshot up to 5 minutes old; `impatient` waits 300 ms and trusts its snapshot for 1 s without the store.
  let patient: RunningSidecar;
  let impatient: RunningSidecar;
  const clients: RoleMappingServiceClient[] = [];
  let patientApi: RoleMappingApi;
  let impatientApi: RoleMappingApi;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    database = new URL(db.url!).pathname.slice(1);
    dataDir = await mkdtemp(join(tmpdir(), "rolemapper-faults-"));
    const env = {
      ROLEMAPPING_STORE: "postgres",
      DATABASE_URL: db.url!,
      ROLEMAPPING_MIGRATE: "true",
      SNAPSHOT_MAX_LAG_S: "0.2",
    };
    patient = await startTestSidecar(
      { ...env, STORE_TIMEOUT_MS: "10000", SNAPSHOT_MAX_STALENESS_S: "300" },
      {},
      dataDir,
    );
    impatient = await startTestSidecar(
      { ...env, STORE_TIMEOUT_MS: "300", SNAPSHOT_MAX_STALENESS_S: "1" },
      {},
      dataDir,
    );
    const api = (running: RunningSidecar) => {
      const client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure());
      clients.push(client);
      return promiseApi(client, bearer(undefined));
    };
    patientApi = api(patient);
    impatientApi = api(impatient);
    await patientApi.upsertRole({ roleId: "r1", componentId: "c1", graphqlRootFieldNames: ["orders"] });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await patient?.stop();
    await impatient?.stop();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function decide(running: RunningSidecar, user: string): Promise<number> {
    const token = await running.issuer!.mint({ user });
    const answer = await postWebhook(running.webhookUrl, {
      headers: { Authorization: `Bearer ${token}` },
      request: { query: "{ orders }" },
    });
    return answer.status;
  }

  it("the store connection killed in the middle of a write: UNAVAILABLE, the previous grants intact, the next write works", async () => {
    const before = users("before", 2_000);
    await patientApi.setUserRoles({ roleId: "r1", users: before });
    // Holding the change-marker row stops the write after it has deleted and inserted, before it commits.
    const lock = await holdLock(db.url!, "SELECT * FROM rolemapping.rolemapping_version FOR UPDATE");
    const pending = failureOf(patientApi.setUserRoles({ roleId: "r1", users: users("after", 2_000) }));
    const pid = await waitForLockWaiter(db.url!, database);
    await query(db.url!, "SELECT pg_terminate_backend($1)", [pid]);
    expect((await pending).code).toBe(status.UNAVAILABLE);
    await lock.release();

    const grants = await patientApi.getRoleGrants({ roleId: "r1" });
    expect(grants.users).toEqual([...before].sort());
    // Decisions on this replica follow the store, not the half-done write.
    expect(await decide(patient, "before0")).toBe(200);
    expect(await decide(patient, "after0")).toBe(401);
    // The pool replaced the killed connection.
    expect((await patientApi.setUserRoles({ roleId: "r1", users: ["user:next"] })).users).toEqual([
      "user:next",
    ]);
    expect(await decide(patient, "next")).toBe(200);
  });

  it("the store slow: writes fail with DEADLINE_EXCEEDED, decisions go on from the snapshot within the staleness bound and fail closed past it, then recover", async () => {
    await patientApi.setUserRoles({ roleId: "r1", users: ["user:steady"] });
    // Wait until the impatient replica has seen that write.
    await expect.poll(() => decide(impatient, "steady"), { timeout: 10_000 }).toBe(200);

    const lock = await holdLock(
      db.url!,
      "LOCK TABLE rolemapping.roles, rolemapping.rolemapping_version IN ACCESS EXCLUSIVE MODE",
    );
    try {
      // Ten writes at once: each is refused after the statement timeout; none hangs.
      const writes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          failureOf(impatientApi.setUserRoles({ roleId: "r1", users: [`user:w${i}`] })),
        ),
      );
      expect(new Set(writes.map((failure) => failure.code))).toEqual(new Set([status.DEADLINE_EXCEEDED]));
      // Past its staleness bound the impatient replica fails closed (500) and reports itself not ready...
      await expect.poll(() => decide(impatient, "steady"), { timeout: 10_000 }).toBe(500);
      expect((await fetch(`${impatient.webhookUrl}/readyz`)).status).toBe(503);
      // ...while the patient one, within its bound, goes on deciding from its snapshot.
      expect(await decide(patient, "steady")).toBe(200);
      expect(await decide(patient, "stranger")).toBe(401);
      // No pile-up: the replicas hold no more connections than their pools allow (10 each), plus the lock's.
      expect(await connectionCount(db.url!, database)).toBeLessThanOrEqual(2 * 10 + 2);
    } finally {
      await lock.release();
    }
    await expect.poll(() => decide(impatient, "steady"), { timeout: 10_000 }).toBe(200);
    // None of the refused writes was applied later.
    expect((await impatientApi.getRoleGrants({ roleId: "r1" })).users).toEqual(["user:steady"]);
  });
});
