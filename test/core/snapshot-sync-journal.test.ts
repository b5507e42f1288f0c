import { afterEach, describe, expect, it, vi } from "vitest";
import type { Role } from "../../src/core/mapping.js";
import { SnapshotSync, type SnapshotSyncOptions } from "../../src/core/snapshot-sync.js";
import { FakeStore } from "../support/fake-store.js";
import { RecordingLogger } from "../support/recording-logger.js";

const HOUR = 3_600_000;
const role = (id: string, fields: string[]): Role => ({
  roleId: id,
  componentId: `c-${id}`,
  rootFields: fields,
});

function setup(options: Partial<SnapshotSyncOptions> = {}) {
  const clock = { now: 1_000_000 };
  const store = new FakeStore({
    roles: [role("orders", ["orders"]), role("invoices", ["invoices"]), role("stock", ["stock"])],
    userGrants: [
      { subject: "user:alice", roleId: "orders" },
      { subject: "user:alice", roleId: "invoices" },
    ],
  });
  const logger = new RecordingLogger();
  // The timer never fires within a test: polls are driven by hand with a fake clock.
  const sync = new SnapshotSync(store, {
    verifyMs: HOUR,
    pollMs: HOUR,
    maxStalenessMs: HOUR,
    logger,
    now: () => clock.now,
    random: () => 0.5,
    ...options,
  });
  syncs.push(sync);
  return { clock, store, logger, sync };
}

const syncs: SnapshotSync[] = [];
afterEach(() => {
  for (const sync of syncs.splice(0)) sync.stop();
});

const rolesOf = (sync: SnapshotSync, user: string, groups: string[] = []) =>
  [...sync.fresh().rolesOf(user, groups)].sort();

describe("SnapshotSync following the journal", () => {
  it("swaps changed roles in whole, root fields and grants, and never shows part of a change", async () => {
    const { store, sync } = setup();
    await sync.start();
    await store.upsertRole(role("orders", ["orders", "order_lines"]));
    await store.setUserRoles("orders", ["user:bob"]);
    await store.deleteRole("invoices");
    let release!: () => void;
    store.loadRolesGate = new Promise((resolve) => (release = resolve));
    const polled = sync.poll();
    await vi.waitFor(() => expect(store.roleLoads).toHaveLength(1));
    // Read, not yet applied: decisions still see the whole previous state.
    expect(rolesOf(sync, "user:alice")).toEqual(["invoices", "orders"]);
    expect([...sync.fresh().rolesForField("order_lines")]).toEqual([]);
    release();
    await polled;
    expect(rolesOf(sync, "user:alice")).toEqual([]);
    expect(rolesOf(sync, "user:bob")).toEqual(["orders"]);
    expect([...sync.fresh().rolesForField("order_lines")]).toEqual(["orders"]);
    expect(sync.fresh().role("invoices")).toBeUndefined();
    expect([...store.roleLoads[0]!].sort()).toEqual(["invoices", "orders"]);
    expect(store.loads).toBe(1);
    expect(sync.stats().activity).toMatchObject({ catchUps: 1, rolesReloaded: 2, fullLoads: { start: 1 } });
  });

  it("does not reload what it wrote itself: its writes were applied in place", async () => {
    const { store, sync } = setup();
    store.ownWrites = true;
    await sync.start();
    await sync.write(async (snapshot) => {
      const { grants } = await store.setUserRoles("stock", ["user:carol"]);
      snapshot?.replaceGrants("stock", "user:", grants.users);
    });
    expect(rolesOf(sync, "user:carol")).toEqual(["stock"]);
    await sync.poll();
    expect(store.roleLoads).toEqual([]);
    expect(store.loads).toBe(1);
    expect(sync.stats().activity).toMatchObject({ catchUps: 1, rolesReloaded: 0 });
    // Another writer's change to the same role still is reloaded.
    store.grantOutside({ subject: "user:dan", roleId: "stock" });
    await sync.poll();
    expect(store.roleLoads).toEqual([["stock"]]);
    expect(rolesOf(sync, "user:dan")).toEqual(["stock"]);
  });

  it.each([
    ["pruned", (store: FakeStore) => store.pruneJournal()],
    ["truncated", (store: FakeStore) => store.truncateGrants()],
  ] as const)("reloads everything when the journal cannot tell (%s), and only then", async (reason, gap) => {
    const { store, sync, logger } = setup();
    await sync.start();
    store.grantOutside({ subject: "user:erin", roleId: "stock" });
    gap(store);
    await sync.poll();
    expect(store.loads).toBe(2);
    expect(store.roleLoads).toEqual([]);
    expect(sync.stats().activity.fullLoads).toEqual({ start: 1, [reason]: 1 });
    expect(logger.events()).toEqual(["snapshot_reload"]);
    store.grantOutside({ subject: "user:frank", roleId: "stock" });
    await sync.poll();
    expect(store.loads).toBe(2);
    expect(rolesOf(sync, "user:frank")).toEqual(["stock"]);
  });

  it("reloads everything when more roles changed at once than it reloads one by one", async () => {
    const { store, sync } = setup({ maxChangedRoles: 2 });
    await sync.start();
    for (const id of ["orders", "invoices", "stock"]) store.grantOutside({ subject: "user:gil", roleId: id });
    await sync.poll();
    expect(store.loads).toBe(2);
    expect(sync.stats().activity.fullLoads).toMatchObject({ too_many: 1 });
    expect(rolesOf(sync, "user:gil")).toEqual(["invoices", "orders", "stock"]);
  });

  it("reloads group pins the journal lists, pinned or unpinned elsewhere", async () => {
    const { store, sync } = setup({ groupPins: true });
    await store.pinGroups([{ group: "group:ops", objectId: "id-ops" }]);
    await sync.start();
    expect(sync.fresh().pins.objectIdOf("group:ops")).toBe("id-ops");
    await store.setGroupRoles("orders", ["group:dev"], [{ group: "group:dev", objectId: "id-dev" }]);
    store.pins.delete("group:ops");
    store.grantOutside({ subject: "user:x", roleId: "stock" });
    await store.pinGroups([{ group: "group:ops", objectId: "id-ops-2" }]);
    await sync.poll();
    expect(sync.fresh().pins.objectIdOf("group:dev")).toBe("id-dev");
    expect(sync.fresh().pins.objectIdOf("group:ops")).toBe("id-ops-2");
    expect(sync.fresh().pins.namesPinnedTo("id-ops")).toEqual([]);
    expect(sync.fresh().pins.namesPinnedTo("id-ops-2")).toEqual(["ops"]);
    expect(rolesOf(sync, "user:nobody", ["group:dev"])).toEqual(["orders"]);
    expect(store.loads).toBe(1);
  });
});

describe("SnapshotSync safety net", () => {
  it("reloads everything when the checksums differ (a change the journal never saw)", async () => {
    const { clock, store, sync, logger } = setup();
    await sync.start();
    store.grantUnnoticed({ subject: "user:hal", roleId: "orders" });
    clock.now += HOUR;
    await sync.poll();
    expect(store.loads).toBe(2);
    expect(rolesOf(sync, "user:hal")).toEqual(["orders"]);
    expect(sync.stats().activity).toMatchObject({
      fullLoads: { start: 1, checksum: 1 },
      checks: { match: 0, mismatch: 1, untaken: 0 },
    });
    expect(logger.events()).toEqual(["snapshot_checksum_mismatch"]);
  });

  it("leaves out the roles changed since its marker, on both sides, so a busy store compares too", async () => {
    const { clock, store, sync } = setup();
    await sync.start();
    clock.now += HOUR;
    // A write lands between the catch-up and the check: its role is left out of both checksums until the next
    // catch-up, instead of making them differ.
    const original = store.checksum.bind(store);
    store.checksum = async (since) => {
      store.grantOutside({ subject: "user:ivy", roleId: "invoices" });
      store.checksum = original;
      return original(since);
    };
    await sync.poll();
    expect(sync.stats().activity.checks).toEqual({ match: 1, mismatch: 0, untaken: 0 });
    expect(store.loads).toBe(1);
    await sync.poll();
    expect(rolesOf(sync, "user:ivy")).toEqual(["invoices"]);
  });

  it("tries again at a quieter moment when the store cannot take a checksum, then reloads", async () => {
    const { clock, store, sync } = setup();
    await sync.start();
    store.checksum = async () => undefined;
    clock.now += HOUR;
    for (let i = 1; i < 10; i++) {
      await sync.poll();
      expect(sync.stats().activity.checks.untaken).toBe(i);
      await sync.poll();
      expect(sync.stats().activity.checks.untaken).toBe(i);
      clock.now += 60_000;
    }
    expect(store.loads).toBe(1);
    await sync.poll();
    expect(store.loads).toBe(2);
    expect(sync.stats().activity.fullLoads).toMatchObject({ unchecked: 1 });
  });

  it("jitters the period per replica, within ±10 %", async () => {
    for (const [random, first] of [
      [0, 0.9 * HOUR],
      [1, 1.1 * HOUR],
    ] as const) {
      const { clock, store, sync } = setup({ random: () => random });
      await sync.start();
      clock.now += first - 1;
      await sync.poll();
      expect(store.checksums).toBe(0);
      clock.now += 1;
      await sync.poll();
      expect(store.checksums).toBe(1);
    }
  });
});

describe("SnapshotSync without the journal, or told to reload in full", () => {
  it("reloads everything on every change where the store has no journal, saying so once per period", async () => {
    const { clock, store, sync, logger } = setup();
    store.journalMissing = true;
    await sync.start();
    store.grantOutside({ subject: "user:jo", roleId: "stock" });
    await sync.poll();
    store.grantOutside({ subject: "user:kim", roleId: "stock" });
    await sync.poll();
    expect(store.loads).toBe(3);
    expect(rolesOf(sync, "user:kim")).toEqual(["stock"]);
    expect(logger.events()).toEqual(["journal_missing"]);
    // Probed again once a period has passed: a journal applied meanwhile is used from then on.
    store.journalMissing = false;
    clock.now += HOUR;
    store.grantOutside({ subject: "user:lee", roleId: "stock" });
    await sync.poll();
    expect(store.loads).toBe(3);
    expect(store.roleLoads).toEqual([["stock"]]);
  });

  it("with mode full, reloads everything whenever the marker moves and every period", async () => {
    const { clock, store, sync } = setup({ mode: "full", verifyMs: 60_000 });
    await sync.start();
    store.grantOutside({ subject: "user:max", roleId: "stock" });
    await sync.poll();
    expect(store.loads).toBe(2);
    clock.now += 66_000;
    await sync.poll();
    expect(store.loads).toBe(3);
    expect(store.roleLoads).toEqual([]);
    expect(store.checksums).toBe(0);
    expect(sync.stats().activity.fullLoads).toEqual({ start: 1, changed: 1, periodic: 1 });
  });
});

describe("SnapshotSync woken by the store", () => {
  it("polls as soon as the store says something changed, with no timer", async () => {
    const { store, sync } = setup();
    await sync.start();
    expect(store.watchers).toBe(1);
    store.grantOutside({ subject: "user:ned", roleId: "stock" });
    store.notify();
    await vi.waitFor(() => expect(rolesOf(sync, "user:ned")).toEqual(["stock"]));
    sync.stop();
    expect(store.watchers).toBe(0);
  });

  it("looks again when woken during a poll, so a change committed meanwhile is not left to the timer", async () => {
    const { store, sync } = setup();
    await sync.start();
    const original = store.changesSince.bind(store);
    let arrived!: () => void;
    const reading = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // The first journal read is slow and sees the store before the change.
    store.changesSince = async (since, limit) => {
      const read = await original(since, limit);
      store.changesSince = original;
      arrived();
      await gate;
      return read;
    };
    const polled = sync.poll();
    await reading;
    store.grantOutside({ subject: "user:oz", roleId: "stock" });
    store.notify();
    release();
    await polled;
    expect(rolesOf(sync, "user:oz")).toEqual(["stock"]);
  });

  it("does not listen when told not to", async () => {
    const { store, sync } = setup({ listen: false });
    await sync.start();
    expect(store.watchers).toBe(0);
  });
});

describe("SnapshotSync telling of roles deleted elsewhere", () => {
  it("tells its listeners after a catch-up and after a full load, only of roles it held, never of its own deletes", async () => {
    const { store, sync } = setup();
    const told: string[][] = [];
    sync.onRolesDeleted((roleIds) => told.push([...roleIds].sort()));
    await sync.start();
    await store.deleteRole("invoices");
    await store.upsertRole(role("orders", ["orders", "order_lines"]));
    await store.upsertRole(role("brief", ["brief"]));
    await store.deleteRole("brief");
    await sync.poll();
    expect(told).toEqual([["invoices"]]);
    // A full load (the journal cannot tell) compares with the snapshot it replaces.
    await store.deleteRole("stock");
    store.pruneJournal();
    await sync.poll();
    expect(sync.stats().activity.fullLoads).toMatchObject({ pruned: 1 });
    expect(told).toEqual([["invoices"], ["stock"]]);
    store.ownWrites = true;
    await sync.write(async (snapshot) => {
      await store.deleteRole("orders");
      snapshot?.deleteRole("orders");
    });
    await sync.poll();
    expect(told).toEqual([["invoices"], ["stock"]]);
  });
});
