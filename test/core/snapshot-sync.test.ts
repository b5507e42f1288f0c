import { afterEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { reservedRoleIds } from "../../src/core/reserved-roles.js";
import { SnapshotSync } from "../../src/core/snapshot-sync.js";
import { FakeStore } from "../support/fake-store.js";
import { RecordingLogger } from "../support/recording-logger.js";

const HOUR = 3_600_000;

function setup(options: { verifyMs?: number; maxStalenessMs?: number } = {}) {
  const clock = { now: 1_000_000 };
  const store = new FakeStore({
    roles: [{ roleId: "r_orders", componentId: "c1", rootFields: ["orders"] }],
    userGrants: [{ subject: "user:alice", roleId: "r_orders" }],
  });
  const logger = new RecordingLogger();
  // The timer never fires within a test: polls are driven by hand with a fake clock.
  const sync = new SnapshotSync(store, {
    verifyMs: options.verifyMs ?? 10 * HOUR,
    pollMs: HOUR,
    maxStalenessMs: options.maxStalenessMs ?? 30_000,
    logger,
    now: () => clock.now,
  });
  syncs.push(sync);
  return { clock, store, logger, sync };
}

const syncs: SnapshotSync[] = [];
afterEach(() => {
  for (const sync of syncs.splice(0)) sync.stop();
});

describe("SnapshotSync", () => {
  it("is not ready and refuses decisions before the first load", () => {
    const { sync } = setup();
    expect(sync.ready()).toBe(false);
    expect(() => sync.fresh()).toThrow(UnavailableError);
    expect(() => sync.fresh()).toThrow(/not loaded yet/);
  });

  it("starts not ready while the store cannot be read, and becomes ready once it answers", async () => {
    const { store, sync, logger } = setup();
    store.down = true;
    await sync.start();
    expect(sync.ready()).toBe(false);
    expect(sync.loaded()).toBe(false);
    expect(() => sync.fresh()).toThrow(/not loaded yet/);
    store.down = false;
    await sync.poll();
    expect(sync.ready()).toBe(true);
    expect([...sync.fresh().rolesOf("user:alice", [])]).toEqual(["r_orders"]);
    expect(logger.events()).toEqual(["store_unreachable", "store_recovered"]);
  });

  it("loads the mappings at start", async () => {
    const { sync } = setup();
    await sync.start();
    expect(sync.ready()).toBe(true);
    expect([...sync.fresh().rolesOf("user:alice", [])]).toEqual(["r_orders"]);
  });

  it("reloads the role the journal lists when the change marker moves, and nothing otherwise", async () => {
    const { store, sync } = setup();
    await sync.start();
    await sync.poll();
    expect(store.loads).toBe(1);
    expect(store.roleLoads).toEqual([]);
    store.grantOutside({ subject: "user:bob", roleId: "r_orders" });
    await sync.poll();
    expect(store.loads).toBe(1);
    expect(store.roleLoads).toEqual([["r_orders"]]);
    expect([...sync.fresh().rolesOf("user:bob", [])]).toEqual(["r_orders"]);
  });

  it("checks the store's checksum every verify period, reloading nothing while it matches", async () => {
    const { clock, store, sync } = setup({ verifyMs: 60_000 });
    // Jittered by ±10 % per replica: the first check comes 54 to 66 s after the load.
    await sync.start();
    clock.now += 53_000;
    await sync.poll();
    expect(store.checksums).toBe(0);
    clock.now += 14_000;
    await sync.poll();
    expect(store.checksums).toBe(1);
    expect(store.loads).toBe(1);
    expect(sync.stats().activity.checks).toEqual({ match: 1, mismatch: 0, untaken: 0 });
  });

  it("decides from the last snapshot while the store is away, up to the staleness bound", async () => {
    const { clock, store, sync, logger } = setup({ maxStalenessMs: 30_000 });
    await sync.start();
    store.down = true;
    clock.now += 10_000;
    await sync.poll();
    expect(sync.ready()).toBe(true);
    expect([...sync.fresh().rolesOf("user:alice", [])]).toEqual(["r_orders"]);
    expect(logger.events()).toEqual(["store_unreachable"]);

    clock.now += 20_000;
    await sync.poll();
    expect(sync.staleForMs()).toBe(30_000);
    expect(sync.ready()).toBe(true);

    clock.now += 1;
    await sync.poll();
    expect(sync.ready()).toBe(false);
    expect(() => sync.fresh()).toThrow(UnavailableError);
    expect(() => sync.fresh()).toThrow(/stale/);
    // One warning for the outage and one when decisions start failing closed, not one per poll.
    await sync.poll();
    expect(logger.events()).toEqual(["store_unreachable", "store_stale"]);
  });

  it("recovers when the store answers again", async () => {
    const { clock, store, sync, logger } = setup({ maxStalenessMs: 30_000 });
    await sync.start();
    store.down = true;
    clock.now += 60_000;
    await sync.poll();
    expect(sync.ready()).toBe(false);
    store.down = false;
    await sync.poll();
    expect(sync.ready()).toBe(true);
    expect(sync.staleForMs()).toBe(0);
    expect(() => sync.fresh()).not.toThrow();
    expect(logger.events()).toEqual(["store_unreachable", "store_stale", "store_recovered"]);
  });

  it("counts a successful write as contact with the store", async () => {
    const { clock, sync } = setup({ maxStalenessMs: 30_000 });
    await sync.start();
    clock.now += 29_000;
    await sync.write(async () => "done");
    clock.now += 29_000;
    expect(sync.ready()).toBe(true);
  });

  it("refuses writes beyond the queue bound at once, and takes them again once the queue drains", async () => {
    const { store } = setup();
    const sync = new SnapshotSync(store, {
      verifyMs: HOUR,
      pollMs: HOUR,
      maxStalenessMs: HOUR,
      maxQueuedWrites: 2,
      logger: new RecordingLogger(),
    });
    syncs.push(sync);
    await sync.start();
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const first = sync.write(() => slow.then(() => "first"));
    const second = sync.write(async () => "second");
    await expect(sync.write(async () => "third")).rejects.toThrow(/more than 2 writes waiting/);
    release();
    expect(await Promise.all([first, second])).toEqual(["first", "second"]);
    expect(await sync.write(async () => "fourth")).toBe("fourth");
  });

  it("never lets a reload that started before a write put back the older state", async () => {
    const { store, sync } = setup();
    await sync.start();
    let release!: () => void;
    store.loadGate = new Promise((resolve) => (release = resolve));
    // The reload reads the store (bob not yet granted), then waits before installing what it read.
    const reload = sync.reload();
    await Promise.resolve();
    const write = sync.write(async (snapshot) => {
      const { grants } = await store.setUserRoles("r_orders", ["user:alice", "user:bob"]);
      snapshot?.replaceGrants("r_orders", "user:", grants.users);
    });
    release();
    store.loadGate = undefined;
    await Promise.all([reload, write]);
    expect([...sync.fresh().rolesOf("user:bob", [])]).toEqual(["r_orders"]);
  });

  it("rejects a failed write and keeps the snapshot as it was", async () => {
    const { sync } = setup();
    await sync.start();
    await expect(
      sync.write(async () => {
        throw new UnavailableError("store unreachable");
      }),
    ).rejects.toBeInstanceOf(UnavailableError);
    expect([...sync.fresh().rolesOf("user:alice", [])]).toEqual(["r_orders"]);
    // The queue goes on after a failure.
    await expect(sync.write(async () => 1)).resolves.toBe(1);
  });

  it("leaves reserved roles written outside the API out, with one error line per load and a count", async () => {
    const store = new FakeStore({
      roles: [
        { roleId: "admin", componentId: "c-admin", rootFields: ["orders"] },
        { roleId: "anonymous", componentId: "c-anonymous", rootFields: ["orders"] },
      ],
      userGrants: [{ subject: "user:mallory", roleId: "admin" }],
      groupGrants: [{ subject: "group:ops", roleId: "anonymous" }],
    });
    const logger = new RecordingLogger();
    const sync = new SnapshotSync(store, {
      verifyMs: HOUR,
      pollMs: HOUR,
      maxStalenessMs: HOUR,
      logger,
      reservedRoles: reservedRoleIds(["anonymous"]),
    });
    syncs.push(sync);
    await sync.start();
    expect(sync.fresh().rolesOf("user:mallory", ["group:ops"]).size).toBe(0);
    expect(sync.stats()).toMatchObject({ roles: 0, grants: 0, reservedRowsIgnored: 4 });
    expect(logger.entries).toEqual([
      {
        level: "error",
        obj: { event: "reserved_roles_ignored", role_ids: ["admin", "anonymous"], rows: 4 },
        msg: expect.stringMatching(/reserved role ids .* ignored .*never answers/),
      },
    ]);
    // Once per load, not per poll or decision.
    await sync.poll();
    expect(logger.entries).toHaveLength(1);
    store.grantOutside({ subject: "user:eve", roleId: "admin" });
    await sync.poll();
    expect(logger.entries).toHaveLength(2);
    expect(sync.stats().reservedRowsIgnored).toBe(5);
    // Deleted through the API (the way to clean up), the next load is quiet and counts nothing.
    await store.deleteRole("admin");
    await store.deleteRole("anonymous");
    await sync.poll();
    expect(logger.entries).toHaveLength(2);
    expect(sync.stats().reservedRowsIgnored).toBe(0);
  });

  it("reserves Hasura's admin role when given no reserved ids", async () => {
    const store = new FakeStore({
      roles: [{ roleId: "admin", componentId: "c-admin", rootFields: ["orders"] }],
      userGrants: [{ subject: "user:mallory", roleId: "admin" }],
    });
    const logger = new RecordingLogger();
    const sync = new SnapshotSync(store, { verifyMs: HOUR, pollMs: HOUR, maxStalenessMs: HOUR, logger });
    syncs.push(sync);
    await sync.start();
    expect(sync.fresh().rolesOf("user:mallory", []).size).toBe(0);
    expect(sync.stats().reservedRowsIgnored).toBe(2);
    expect(logger.events()).toEqual(["reserved_roles_ignored"]);
  });
});
