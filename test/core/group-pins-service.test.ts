import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { GroupPinning } from "../../src/core/group-pinning.js";
import type { GroupPin } from "../../src/core/mapping.js";
import { MappingService } from "../../src/core/mapping-service.js";
import { FakeStore } from "../support/fake-store.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { snapshotOf } from "./fixtures.js";
import { quietSync } from "./mapping-service-fixture.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

const pin = (name: string, objectId: string): GroupPin => ({ group: `group:${name}`, objectId });

async function setup(holders: Record<string, string[]>, store = new FakeStore()) {
  const sync = await quietSync(store, { groupPins: true });
  const pinning = new GroupPinning({
    directory: { holdersOf: async (name) => holders[name] ?? [] },
    pinGroups: (pins) => store.pinGroups(pins),
    snapshot: () => sync.fresh(),
    write: (task) => sync.write(task),
    logger: new RecordingLogger(),
  });
  const service = new MappingService(store, sync, { pinner: pinning });
  await service.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: ["orders"] });
  return { store, sync, service };
}

describe("SetGroupRoles where group names are pinned", () => {
  it("stores each name's pin with the grant, and applies both to this replica's snapshot", async () => {
    const { store, sync, service } = await setup({ sales: ["id-sales"], ops: ["id-ops"] });
    await service.setGroupRoles(INTERNAL_CALLER, "r", ["group:sales", "group:ops"]);
    expect(Object.fromEntries(store.pins)).toEqual({ "group:sales": "id-sales", "group:ops": "id-ops" });
    expect(sync.fresh().pins.objectIdOf("group:ops")).toBe("id-ops");
    expect([...sync.fresh().rolesOfSubject("group:sales")]).toEqual(["r"]);
  });

  it("refuses the whole call when one name is held by two groups, writing nothing", async () => {
    const { store, sync, service } = await setup({ sales: ["id-sales"], admins: ["id-a", "id-twin"] });
    const refusal = service.setGroupRoles(INTERNAL_CALLER, "r", ["group:sales", "group:admins"]);
    await expect(refusal).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(refusal).rejects.toThrow(
      /groups\[1\]: "group:admins" cannot be granted: 2 Entra groups hold it/,
    );
    expect(store.pins.size).toBe(0);
    expect((await store.getRoleGrants("r"))?.groups).toEqual([]);
    expect(sync.fresh().rolesOfSubject("group:sales").size).toBe(0);
  });

  it("re-pins a name granted again, after its group was deleted and made anew", async () => {
    const holders = { sales: ["id-old"] };
    const { store, service } = await setup(holders);
    await service.setGroupRoles(INTERNAL_CALLER, "r", ["group:sales"]);
    holders.sales = ["id-new"];
    await service.setGroupRoles(INTERNAL_CALLER, "r", ["group:sales"]);
    expect(store.pins.get("group:sales")).toBe("id-new");
  });

  it("loads the stored pins with the mappings", async () => {
    const store = new FakeStore();
    store.pins.set("group:sales", "id-sales");
    const { sync } = await setup({}, store);
    expect(sync.fresh().pins.objectIdOf("group:sales")).toBe("id-sales");
  });
});

describe("Snapshot pins", () => {
  it("indexes pins both ways, re-pins in place, and lists granted names without a pin", () => {
    const snapshot = snapshotOf({ r: ["orders"] }, { "group:a": ["r"], "group:b": ["r"], "user:u": ["r"] });
    expect([...snapshot.unpinnedGroups()]).toEqual(["group:a", "group:b"]);
    const version = snapshot.version;
    snapshot.putPins([pin("a", "id-1"), pin("old-name", "id-1")]);
    expect(snapshot.version).toBe(version + 1);
    expect([...snapshot.pins.namesPinnedTo("id-1")].sort()).toEqual(["a", "old-name"]);
    expect([...snapshot.unpinnedGroups()]).toEqual(["group:b"]);
    snapshot.putPins([pin("a", "id-2")]);
    expect([...snapshot.pins.namesPinnedTo("id-1")]).toEqual(["old-name"]);
    expect(snapshot.pins.objectIdOf("group:a")).toBe("id-2");
    snapshot.putPins([]);
    expect(snapshot.version).toBe(version + 2);
  });
});
