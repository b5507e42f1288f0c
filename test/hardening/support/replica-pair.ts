import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { RoleMappingServiceClient } from "../../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, failureOf, promiseApi, type RoleMappingApi } from "../../grpc/client.js";
import { postWebhook } from "./http.js";
import { holdLock, query, waitForLockWaiter, type HeldLock } from "./pg-faults.js";
import { startTestSidecar, type RunningSidecar } from "../../support/sidecar-harness.js";

/**
 * Two replicas of one deployment on one store (development mode, sharing the issuer's data dir): `patient` waits
 * up to 10 s on the store and decides from a snapshot up to 5 minutes old; `impatient` waits 300 ms and trusts
 * its snapshot for 1 s without the store.
 */
export interface ReplicaPair {
  readonly patient: RunningSidecar;
  readonly impatient: RunningSidecar;
  readonly patientApi: RoleMappingApi;
  readonly impatientApi: RoleMappingApi;
  stop(): Promise<void>;
}

/** Starts the pair on the store that `storeEnv` configures (ROLEMAPPING_STORE and its connection). */
export async function startReplicaPair(storeEnv: Record<string, string>): Promise<ReplicaPair> {
  const dataDir = await mkdtemp(join(tmpdir(), "rolemapper-faults-"));
  // The suites name their callers plainly (steady, before0, w3…): user names, not addresses.
  const env = { ...storeEnv, SNAPSHOT_MAX_LAG_S: "0.2", USER_CLAIM_FORMAT: "any" };
  const patient = await startTestSidecar(
    { ...env, STORE_TIMEOUT_MS: "10000", SNAPSHOT_MAX_STALENESS_S: "300" },
    {},
    dataDir,
  );
  const impatient = await startTestSidecar(
    { ...env, STORE_TIMEOUT_MS: "300", SNAPSHOT_MAX_STALENESS_S: "1" },
    {},
    dataDir,
  );
  const clients = [patient, impatient].map(
    (running) => new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure()),
  );
  const [patientApi, impatientApi] = clients.map((client) => promiseApi(client, bearer(undefined)));
  return {
    patient,
    impatient,
    patientApi: patientApi!,
    impatientApi: impatientApi!,
    async stop() {
      for (const client of clients) client.close();
      await patient.stop();
      await impatient.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** The webhook's status for `user` (a token from the replica's development issuer) reading `{ orders }`. */
export async function decideOrders(running: RunningSidecar, user: string): Promise<number> {
  const token = await running.issuer!.mint({ user });
  const answer = await postWebhook(running.webhookUrl, {
    headers: { Authorization: `Bearer ${token}` },
    request: { query: "{ orders }" },
  });
  return answer.status;
}

/** Users `user:<prefix>0` … `user:<prefix>(count-1)`. */
export const numberedUsers = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `user:${prefix}${i}`);

/**
 * A `SetUserRoles` of 2,000 users through `patient`, replacing 2,000 others, whose database connection is
 * terminated while its transaction waits on the change-marker row (after its delete and insert, before it
 * commits). Returns how the call failed.
 */
export async function writeKilledMidway(
  pair: ReplicaPair,
  databaseUrl: string,
): Promise<{ code: number; details: string }> {
  await pair.patientApi.setUserRoles({ roleId: "r1", users: numberedUsers("before", 2_000) });
  const lock = await holdLock(databaseUrl, "SELECT * FROM rolemapping.rolemapping_version FOR UPDATE");
  try {
    const pending = failureOf(
      pair.patientApi.setUserRoles({ roleId: "r1", users: numberedUsers("after", 2_000) }),
    );
    const pid = await waitForLockWaiter(databaseUrl, new URL(databaseUrl).pathname.slice(1));
    await query(databaseUrl, "SELECT pg_terminate_backend($1)", [pid]);
    return await pending;
  } finally {
    await lock.release();
  }
}

/** Locks the mapping tables against every other statement until released: the store turns slow. */
export function lockMappingTables(databaseUrl: string): Promise<HeldLock> {
  return holdLock(
    databaseUrl,
    "LOCK TABLE rolemapping.roles, rolemapping.rolemapping_version IN ACCESS EXCLUSIVE MODE",
  );
}

/** Ten `SetUserRoles` at once through `impatient` (users `w0` … `w9`, one each); how each failed. */
export function tenWritesAtOnce(pair: ReplicaPair): Promise<{ code: number; details: string }[]> {
  return Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      failureOf(pair.impatientApi.setUserRoles({ roleId: "r1", users: [`user:w${i}`] })),
    ),
  );
}
