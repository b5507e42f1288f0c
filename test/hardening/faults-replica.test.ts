import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openTestDatabase, shouldRunPostgres, type TestDatabase } from "../support/databases.js";
import { postWebhook } from "./support/http.js";
import { startLoad, total, type LoadTally } from "./support/load.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

const run = await shouldRunPostgres();

/** Waits until `tally` has counted `count` more allowed decisions than `from` (the load is reaching it). */
const answered = (tally: LoadTally, count: number, from = 0) =>
  vi.waitFor(() => expect(tally.statuses.get(200) ?? 0).toBeGreaterThanOrEqual(from + count), {
    timeout: 20_000,
  });

describe.skipIf(!run)("a replica restarted under load", () => {
  let db: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let steady: RunningSidecar;
  let restarted: RunningSidecar | undefined;

  beforeAll(async () => {
    db = await openTestDatabase("postgres");
    dataDir = await mkdtemp(join(tmpdir(), "rolemapper-replicas-"));
    env = {
      ROLEMAPPING_STORE: "postgres",
      DATABASE_URL: db.url!,
      ROLEMAPPING_MIGRATE: "true",
      SNAPSHOT_MAX_LAG_S: "0.2",
    };
    // Both replicas share the data directory, hence the development issuer's key: one token works on both.
    steady = await startTestSidecar(env, {}, dataDir);
    await steady.sidecar.service.upsertRole(INTERNAL_CALLER, {
      roleId: "r1",
      componentId: "c1",
      rootFields: ["orders"],
    });
    await steady.sidecar.service.setUserRoles(INTERNAL_CALLER, "r1", ["user:alice_corp.com"]);
  });
  afterAll(async () => {
    await restarted?.stop();
    await steady?.stop();
    await db?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("the other replica never falters; the restarted one answers only right answers, misses only connections while down, and comes back with the writes made meanwhile", async () => {
    let replica = await startTestSidecar(env, {}, dataDir);
    restarted = replica;
    const token = await steady.issuer!.mint({ user: "alice@corp.com" });
    const body = () => ({ headers: { Authorization: `Bearer ${token}` }, request: { query: "{ orders }" } });
    let replicaUrl = replica.webhookUrl;

    const onSteady = startLoad(() => steady.webhookUrl, body, 4);
    const onReplica = startLoad(() => replicaUrl, body, 8);
    await Promise.all([answered(onSteady.tally, 30), answered(onReplica.tally, 30)]);

    // The replica goes away (graceful stop, as on SIGTERM); a write lands through the other one meanwhile.
    await replica.stop();
    await steady.sidecar.service.setUserRoles(INTERNAL_CALLER, "r1", [
      "user:alice_corp.com",
      "user:bea_corp.com",
    ]);
    // The load has found the replica gone.
    await vi.waitFor(() => expect(onReplica.tally.errors.size).toBeGreaterThan(0), { timeout: 10_000 });
    replica = await startTestSidecar(env, {}, dataDir);
    restarted = replica;
    replicaUrl = replica.webhookUrl;
    const bea = await steady.issuer!.mint({ user: "bea@corp.com" });
    // Its first decision already knows the grant made while it was down.
    const first = await postWebhook(replica.webhookUrl, {
      headers: { Authorization: `Bearer ${bea}` },
      request: { query: "{ orders }" },
    });
    expect(first.status).toBe(200);
    // The load reaches the restarted replica, and the steady one has served well past the bound below.
    await answered(onReplica.tally, 30, onReplica.tally.statuses.get(200));
    await answered(onSteady.tally, 60);
    await Promise.all([onSteady.stop(), onReplica.stop()]);

    // The steady replica: every decision allowed, not one error.
    expect([...onSteady.tally.statuses.keys()]).toEqual([200]);
    expect(total(onSteady.tally.errors)).toBe(0);
    expect(onSteady.tally.statuses.get(200)).toBeGreaterThan(50);
    // The restarted replica: every answer it gave was the right one; the rest are refused connections.
    expect([...onReplica.tally.statuses.keys()]).toEqual([200]);
    for (const code of onReplica.tally.errors.keys()) expect(["ECONNREFUSED", "ECONNRESET"]).toContain(code);
    expect(onReplica.tally.statuses.get(200)).toBeGreaterThan(50);
  });
});
