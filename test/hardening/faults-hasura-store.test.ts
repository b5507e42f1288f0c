import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, failureOf, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import { postWebhook } from "./support/http.js";
import { holdLock, query, waitForLockWaiter } from "./support/pg-faults.js";
import { startTestSidecar, type RunningSidecar } from "./support/sidecar.js";

const run = await shouldRunPostgres();
const ADMIN_SECRET = "hardening-hasura-faults-secret";

const users = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `user:${prefix}${i}`);

// The same faults as faults-store.test.ts, with the store reached through Hasura (the stand-in on PostgreSQL):
// the sidecar sees them only as Hasura's errors and its own timeouts.
describe.skipIf(!run)("faults of the Hasura store, seen through the whole sidecar", () => {
  let db: TestDatabase;
  let hasura: HasuraStandIn;
  let dataDir: string;
  let database: string;
  // `patient` waits up to 10 s on Hasura and decides from a snapshot up to 5 minutes old; `impatient` waits
  // 300 ms and trusts its snapshot for 1 s without the store.
  let patient: RunningSidecar;
  let impatient: RunningSidecar;
  const clients: RoleMappingServiceClient[] = [];
  let patientApi: RoleMappingApi;
  let impatientApi: RoleMappingApi;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    database = new URL(db.url!).pathname.slice(1);
    hasura = await startHasuraStandIn({ client: db.client, adminSecret: ADMIN_SECRET });
    dataDir = await mkdtemp(join(tmpdir(), "rolemapper-hasura-faults-"));
    const env = {
      ROLEMAPPING_STORE: "hasura",
      GRAPHQL_URL: hasura.url,
      GRAPHQL_ADMIN_SECRET: ADMIN_SECRET,
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
    await hasura?.close();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  // Hasura commits the writes it had queued behind the lock one after another, each bumping the change marker:
  // the store has settled once the marker stays the same for a second.
  async function settled(url: string): Promise<void> {
    const marker = async () =>
      String((await query(url, "SELECT version FROM rolemapping.rolemapping_version"))[0]?.version);
    let last = await marker();
    for (let stable = 0; stable < 4;) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const now = await marker();
      stable = now === last ? stable + 1 : 0;
      last = now;
    }
  }

  async function decide(running: RunningSidecar, user: string): Promise<number> {
    const token = await running.issuer!.mint({ user });
    const answer = await postWebhook(running.webhookUrl, {
      headers: { Authorization: `Bearer ${token}` },
      request: { query: "{ orders }" },
    });
    return answer.status;
  }

  it("Hasura's database connection killed in the middle of a write: UNAVAILABLE, the previous grants intact, the next write works", async () => {
    const before = users("before", 2_000);
    await patientApi.setUserRoles({ roleId: "r1", users: before });
    // Holding the change-marker row stops Hasura's transaction after its delete and insert, before it commits.
    const lock = await holdLock(db.url!, "SELECT * FROM rolemapping.rolemapping_version FOR UPDATE");
    const pending = failureOf(patientApi.setUserRoles({ roleId: "r1", users: users("after", 2_000) }));
    const pid = await waitForLockWaiter(db.url!, database);
    await query(db.url!, "SELECT pg_terminate_backend($1)", [pid]);
    const failure = await pending;
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(failure.details).toMatch(/^Hasura failed set user roles/);
    await lock.release();

    expect((await patientApi.getRoleGrants({ roleId: "r1" })).users).toEqual([...before].sort());
    expect(await decide(patient, "before0")).toBe(200);
    expect(await decide(patient, "after0")).toBe(401);
    // Hasura's pool replaced the killed connection.
    expect((await patientApi.setUserRoles({ roleId: "r1", users: ["user:next"] })).users).toEqual([
      "user:next",
    ]);
    expect(await decide(patient, "next")).toBe(200);
    // The other replica follows the store too.
    await expect.poll(() => decide(impatient, "next"), { timeout: 10_000 }).toBe(200);
    expect(await decide(impatient, "before0")).toBe(401);
  });

  it("Hasura slow: writes fail with DEADLINE_EXCEEDED of unknown outcome, decisions go on from the snapshot and fail closed past the bound, then every replica agrees with what the store holds", async () => {
    await patientApi.setUserRoles({ roleId: "r1", users: ["user:steady"] });
    await expect.poll(() => decide(impatient, "steady"), { timeout: 10_000 }).toBe(200);

    const lock = await holdLock(
      db.url!,
      "LOCK TABLE rolemapping.roles, rolemapping.rolemapping_version IN ACCESS EXCLUSIVE MODE",
    );
    let requestsWhileSlow: number;
    try {
      const requestsBefore = hasura.requestCount();
      // Ten writes at once: each refused at the sidecar's deadline, none hanging, each saying that it may land.
      const writes = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          failureOf(impatientApi.setUserRoles({ roleId: "r1", users: [`user:w${i}`] })),
        ),
      );
      for (const write of writes) {
        expect(write.code).toBe(status.DEADLINE_EXCEEDED);
        expect(write.details).toContain("the write may still be applied");
      }
      await expect.poll(() => decide(impatient, "steady"), { timeout: 10_000 }).toBe(500);
      expect((await fetch(`${impatient.webhookUrl}/readyz`)).status).toBe(503);
      expect(await decide(patient, "steady")).toBe(200);
      expect(await decide(patient, "stranger")).toBe(401);
      requestsWhileSlow = hasura.requestCount() - requestsBefore;
    } finally {
      await lock.release();
    }
    // No pile-up: the writes and the snapshot polls of two replicas over a few seconds, nothing retried in a loop.
    expect(requestsWhileSlow).toBeLessThan(200);

    // Hasura finishes what it was given: the store ends with the steady user or exactly one of the refused
    // lists, never a mix, and both replicas decide by it.
    await settled(db.url!);
    const held = (await patientApi.getRoleGrants({ roleId: "r1" })).users;
    expect(held).toHaveLength(1);
    expect(["user:steady", ...users("w", 10)]).toContain(held[0]);
    const holder = held[0]!.slice("user:".length);
    for (const replica of [patient, impatient]) {
      await expect.poll(() => decide(replica, holder), { timeout: 10_000 }).toBe(200);
      for (const other of ["steady", ...users("w", 10).map((u) => u.slice("user:".length))]) {
        if (other !== holder) expect(await decide(replica, other)).toBe(401);
      }
    }
  });
});
