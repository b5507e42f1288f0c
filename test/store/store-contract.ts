import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mappingChecksum } from "../../src/core/checksum.js";
import { ConflictError, NotFoundError } from "../../src/core/errors.js";
import type { GroupPin, Role } from "../../src/core/mapping.js";
import type { JournalEntry, JournalRead, RoleMappingStore, UpsertedRole } from "../../src/core/store-port.js";

/** A store opened for one test, with whatever the adapter's hooks need to reach behind it. */
export interface StoreUnderTest {
  readonly store: RoleMappingStore;
  close(): Promise<void>;
}

/** Optional hooks for cases that need to reach past the port; a case whose hook is missing is skipped. */
export interface StoreContractOptions<T extends StoreUnderTest> {
  /** Grants `roleId` to the user subject without going through the store (e.g. plain SQL). */
  grantDirectly?(opened: T, subject: string, roleId: string): Promise<void>;
  /** The stored last_update of a user grant. */
  userGrantLastUpdate?(opened: T, subject: string, roleId: string): Promise<Date | undefined>;
  /** Moves every user grant's last_update an hour back. */
  backdateUserGrants?(opened: T): Promise<void>;
  /** Prunes every journal entry, as the journal does for versions long past. */
  pruneJournal?(opened: T): Promise<void>;
  /** Empties the group grant table with TRUNCATE. */
  truncateGroupGrants?(opened: T): Promise<void>;
}

const role = (n: number | string, fields: string[] = []): Role => ({
  roleId: `role-${n}`,
  componentId: `component-${n}`,
  rootFields: fields,
});

const pin = (name: string, objectId: string): GroupPin => ({ group: `group:${name}`, objectId });
const sortedPins = (pins: readonly GroupPin[]) => [...pins].sort((a, b) => a.group.localeCompare(b.group));

const entriesOf = (read: JournalRead): JournalEntry[] => {
  if (!read.complete) throw new Error(`expected the journal's entries, got a gap (${read.reason})`);
  return [...read.entries].sort((a, b) =>
    `${a.kind}/${a.id}/${a.own}`.localeCompare(`${b.kind}/${b.id}/${b.own}`),
  );
};
const own = (id: string): JournalEntry => ({ kind: "role", id, own: true });
const others = (id: string): JournalEntry => ({ kind: "role", id, own: false });

const users = (prefix: string, count: number): string[] =>
  Array.from({ length: count }, (_, i) => `user:${prefix}-${String(i).padStart(5, "0")}`);

/** The behaviour every RoleMappingStore adapter must show, run against a fresh store per case. */
export function describeStoreContract<T extends StoreUnderTest>(
  name: string,
  openStore: () => Promise<T>,
  options: StoreContractOptions<T> = {},
): void {
  describe(`${name}: RoleMappingStore contract`, () => {
    let opened: T;
    let store: RoleMappingStore;

    beforeEach(async () => {
      opened = await openStore();
      store = opened.store;
    });
    afterEach(async () => {
      await opened.close();
    });

    describe("roles", () => {
      it("creates a role readable by id and by component, root fields sorted", async () => {
        const { role: stored } = await store.upsertRole(role(1, ["b_field", "a_field"]));
        const expected = { roleId: "role-1", componentId: "component-1", rootFields: ["a_field", "b_field"] };
        expect(stored).toEqual(expected);
        expect(await store.getRole("role-1")).toEqual(expected);
        expect(await store.getRoleByComponent("component-1")).toEqual(expected);
      });

      it("replaces the root fields on update: afterwards exactly the listed ones", async () => {
        await store.upsertRole(role(1, ["a", "b", "c"]));
        await store.upsertRole(role(1, ["c", "d"]));
        expect((await store.getRole("role-1"))?.rootFields).toEqual(["c", "d"]);
        await store.upsertRole(role(1, []));
        expect(await store.getRole("role-1")).toEqual(role(1, []));
      });

      it("accepts the same upsert twice", async () => {
        await store.upsertRole(role(1, ["a"]));
        await store.upsertRole(role(1, ["a"]));
        expect(await store.getRole("role-1")).toEqual(role(1, ["a"]));
      });

      it("refuses a role_id bound to another component and keeps the stored role", async () => {
        await store.upsertRole(role(1, ["a"]));
        const attempt = store.upsertRole({
          roleId: "role-1",
          componentId: "component-other",
          rootFields: ["x"],
        });
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        await expect(attempt).rejects.toMatchObject({ kind: "role_id" });
        expect(await store.getRole("role-1")).toEqual(role(1, ["a"]));
        expect(await store.getRoleByComponent("component-other")).toBeUndefined();
      });

      it("refuses a component that already has another role and creates nothing", async () => {
        await store.upsertRole(role(1, ["a"]));
        const attempt = store.upsertRole({
          roleId: "role-other",
          componentId: "component-1",
          rootFields: ["x"],
        });
        await expect(attempt).rejects.toBeInstanceOf(ConflictError);
        await expect(attempt).rejects.toMatchObject({ kind: "component_id" });
        expect(await store.getRole("role-other")).toBeUndefined();
        expect(await store.getRoleByComponent("component-1")).toEqual(role(1, ["a"]));
      });

      it("reports missing roles as undefined", async () => {
        expect(await store.getRole("role-missing")).toBeUndefined();
        expect(await store.getRoleByComponent("component-missing")).toBeUndefined();
        expect(await store.getRoleGrants("role-missing")).toBeUndefined();
      });

      it("lets exactly one of many concurrent upserts claim a component", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) =>
            store.upsertRole({ roleId: `role-${i}`, componentId: "component-shared", rootFields: [] }),
          ),
        );
        const won = results.filter((result) => result.status === "fulfilled");
        expect(won).toHaveLength(1);
        for (const result of results) {
          if (result.status === "rejected") expect(result.reason).toMatchObject({ kind: "component_id" });
        }
        const owner = await store.getRoleByComponent("component-shared");
        expect(owner?.roleId).toBe((won[0] as PromiseFulfilledResult<UpsertedRole>).value.role.roleId);
      });

      it("deletes a role with all its mappings and reports whether it existed", async () => {
        await store.upsertRole(role(1, ["a"]));
        await store.upsertRole(role(2, ["a"]));
        await store.setUserRoles("role-1", ["user:alice"]);
        await store.setGroupRoles("role-1", ["group:readers"]);
        await store.setUserRoles("role-2", ["user:alice"]);

        expect((await store.deleteRole("role-1")).deleted).toBe(true);
        expect(await store.getRole("role-1")).toBeUndefined();
        expect(await store.getRoleGrants("role-1")).toBeUndefined();
        expect(await store.listSubjectRoles("user:alice")).toEqual(["role-2"]);
        expect(await store.listSubjectRoles("group:readers")).toEqual([]);
        expect((await store.deleteRole("role-1")).deleted).toBe(false);

        // The id and the component are free again, with no grant left over.
        await store.upsertRole(role(1, []));
        expect(await store.getRoleGrants("role-1")).toEqual({ roleId: "role-1", users: [], groups: [] });
      });

      it("lists roles in role_id order, page by page", async () => {
        const ids = Array.from({ length: 25 }, (_, i) => String(i).padStart(2, "0"));
        for (const id of [...ids].reverse()) await store.upsertRole(role(id, [`field_${id}`]));

        const seen: string[] = [];
        const pageSizes: number[] = [];
        let after: string | undefined;
        do {
          const page = await store.listRoles(10, after);
          pageSizes.push(page.roles.length);
          seen.push(...page.roles.map((r) => r.roleId));
          after = page.nextAfter;
        } while (after !== undefined);

        expect(pageSizes).toEqual([10, 10, 5]);
        expect(seen).toEqual(ids.map((id) => `role-${id}`));
        const page = await store.listRoles(2, "role-22");
        expect(page.roles).toEqual([role(23, ["field_23"]), role(24, ["field_24"])]);
        expect(page.nextAfter).toBeUndefined();
      });

      it("lists no roles on an empty store", async () => {
        expect(await store.listRoles(10, undefined)).toEqual({ roles: [], nextAfter: undefined });
      });
    });

    describe("grants", () => {
      it("refuses to set users or groups of a missing role", async () => {
        await expect(store.setUserRoles("role-missing", ["user:alice"])).rejects.toBeInstanceOf(
          NotFoundError,
        );
        await expect(store.setGroupRoles("role-missing", ["group:a"])).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.listSubjectRoles("user:alice")).toEqual([]);
      });

      it("replaces the users of a role: missing ones added, unlisted ones removed, groups kept", async () => {
        await store.upsertRole(role(1));
        await store.setGroupRoles("role-1", ["group:readers"]);
        await store.setUserRoles("role-1", ["user:alice", "user:bob"]);
        const { grants } = await store.setUserRoles("role-1", ["user:carol", "user:bob"]);

        const expected = { roleId: "role-1", users: ["user:bob", "user:carol"], groups: ["group:readers"] };
        expect(grants).toEqual(expected);
        expect(await store.getRoleGrants("role-1")).toEqual(expected);
        expect(await store.listSubjectRoles("user:alice")).toEqual([]);
      });

      it("replaces the groups of a role, users kept", async () => {
        await store.upsertRole(role(1));
        await store.setUserRoles("role-1", ["user:alice"]);
        await store.setGroupRoles("role-1", ["group:a", "group:b"]);
        const { grants } = await store.setGroupRoles("role-1", ["group:c", "group:a"]);
        expect(grants).toEqual({ roleId: "role-1", users: ["user:alice"], groups: ["group:a", "group:c"] });
        expect(await store.getRoleGrants("role-1")).toEqual(grants);
      });

      it("removes every user or group when set to an empty list", async () => {
        await store.upsertRole(role(1));
        await store.setUserRoles("role-1", ["user:alice"]);
        await store.setGroupRoles("role-1", ["group:a"]);
        await store.setUserRoles("role-1", []);
        expect((await store.setGroupRoles("role-1", [])).grants).toEqual({
          roleId: "role-1",
          users: [],
          groups: [],
        });
      });

      it("keeps the grants when a role's root fields are updated", async () => {
        await store.upsertRole(role(1, ["a"]));
        await store.setUserRoles("role-1", ["user:alice"]);
        await store.upsertRole(role(1, ["b"]));
        expect((await store.getRoleGrants("role-1"))?.users).toEqual(["user:alice"]);
      });

      it("lists the roles a subject holds, sorted, users and groups apart", async () => {
        for (const n of [3, 1, 2]) await store.upsertRole(role(n));
        await store.setUserRoles("role-3", ["user:alice"]);
        await store.setUserRoles("role-1", ["user:alice", "user:bob"]);
        await store.setGroupRoles("role-2", ["group:readers"]);
        expect(await store.listSubjectRoles("user:alice")).toEqual(["role-1", "role-3"]);
        expect(await store.listSubjectRoles("user:bob")).toEqual(["role-1"]);
        expect(await store.listSubjectRoles("group:readers")).toEqual(["role-2"]);
        expect(await store.listSubjectRoles("user:nobody")).toEqual([]);
      });

      const lastUpdateHooks = options.userGrantLastUpdate && options.backdateUserGrants;
      it.skipIf(!lastUpdateHooks)("refreshes last_update of every listed user", async () => {
        await store.upsertRole(role(1));
        await store.setUserRoles("role-1", ["user:alice"]);
        // An hour back, so that the refresh shows without waiting for the clock to move.
        await options.backdateUserGrants!(opened);
        const first = await options.userGrantLastUpdate!(opened, "user:alice", "role-1");
        expect(first).toBeInstanceOf(Date);
        await store.setUserRoles("role-1", ["user:alice", "user:bob"]);
        const second = await options.userGrantLastUpdate!(opened, "user:alice", "role-1");
        expect(second!.getTime()).toBeGreaterThan(first!.getTime());
      });

      it("ends 50 concurrent sets of one role with exactly one of the lists, never a mix", async () => {
        await store.upsertRole(role(1));
        const lists = Array.from({ length: 50 }, (_, i) => users(`writer${i}`, 20));
        await Promise.all(lists.map((list) => store.setUserRoles("role-1", list)));
        const final = (await store.getRoleGrants("role-1"))!.users;
        expect(lists.some((list) => JSON.stringify([...list].sort()) === JSON.stringify(final))).toBe(true);
      });

      it("completes concurrent writes of every kind across roles, each whole", async () => {
        for (let n = 0; n < 15; n++) await store.upsertRole(role(n, ["a"]));
        await Promise.all([
          ...Array.from({ length: 10 }, (_, n) => [
            store.setUserRoles(`role-${n}`, [`user:u${n}`, "user:shared"]),
            store.setGroupRoles(`role-${n}`, [`group:g${n}`]),
            store.upsertRole(role(n, ["a", `b${n}`])),
          ]).flat(),
          ...Array.from({ length: 5 }, (_, i) => store.deleteRole(`role-${10 + i}`)),
        ]);
        for (let n = 0; n < 10; n++) {
          expect(await store.getRole(`role-${n}`)).toEqual(role(n, ["a", `b${n}`]));
          expect(await store.getRoleGrants(`role-${n}`)).toEqual({
            roleId: `role-${n}`,
            users: ["user:shared", `user:u${n}`],
            groups: [`group:g${n}`],
          });
        }
        expect((await store.listRoles(100, undefined)).roles).toHaveLength(10);
      });

      it("sets and replaces 10,000 users of one role", async () => {
        await store.upsertRole(role(1));
        const first = users("a", 10_000);
        expect((await store.setUserRoles("role-1", first)).grants.users).toHaveLength(10_000);
        // Half kept, half new.
        const second = [...first.slice(5_000), ...users("b", 5_000)];
        const { grants } = await store.setUserRoles("role-1", second);
        expect(grants.users).toEqual([...second].sort());
        expect(await store.listSubjectRoles(first[0]!)).toEqual([]);
        expect(await store.listSubjectRoles(second[0]!)).toEqual(["role-1"]);
      });
    });

    describe("what a write changed, counted in its transaction", () => {
      it("an upsert says whether it created the role and how many root fields it mapped before", async () => {
        expect(await store.upsertRole(role(1, ["b", "a"]))).toEqual({
          role: role(1, ["a", "b"]),
          created: true,
          rootFieldsBefore: 0,
        });
        expect(await store.upsertRole(role(1, ["c"]))).toEqual({
          role: role(1, ["c"]),
          created: false,
          rootFieldsBefore: 2,
        });
        expect(await store.upsertRole(role(1, []))).toMatchObject({ created: false, rootFieldsBefore: 1 });
      });

      it("a replacement of users counts those held before, added and removed; groups are not counted", async () => {
        await store.upsertRole(role(1));
        await store.setGroupRoles("role-1", ["group:a", "group:b"]);
        expect(await store.setUserRoles("role-1", ["user:a", "user:b", "user:c"])).toMatchObject({
          before: 0,
          added: 3,
          removed: 0,
        });
        const written = await store.setUserRoles("role-1", ["user:c", "user:d"]);
        expect(written).toEqual({
          grants: { roleId: "role-1", users: ["user:c", "user:d"], groups: ["group:a", "group:b"] },
          before: 3,
          added: 1,
          removed: 2,
        });
        expect(await store.setUserRoles("role-1", ["user:c", "user:d"])).toMatchObject({
          before: 2,
          added: 0,
          removed: 0,
        });
      });

      it("a replacement of groups (with pins) counts groups only", async () => {
        await store.upsertRole(role(1));
        await store.setUserRoles("role-1", ["user:a"]);
        await store.setGroupRoles("role-1", ["group:a"]);
        const written = await store.setGroupRoles("role-1", ["group:b", "group:c"], [pin("b", "id-b")]);
        expect(written).toEqual({
          grants: { roleId: "role-1", users: ["user:a"], groups: ["group:b", "group:c"] },
          before: 1,
          added: 2,
          removed: 1,
        });
        expect(await store.setGroupRoles("role-1", [])).toMatchObject({ before: 2, added: 0, removed: 2 });
      });

      it("a delete counts the grants it removed; a missing role removes nothing", async () => {
        await store.upsertRole(role(1, ["f"]));
        await store.setUserRoles("role-1", ["user:a", "user:b"]);
        await store.setGroupRoles("role-1", ["group:a", "group:b", "group:c"]);
        expect(await store.deleteRole("role-1")).toEqual({ deleted: true, users: 2, groups: 3 });
        expect(await store.deleteRole("role-1")).toEqual({ deleted: false, users: 0, groups: 0 });
      });
    });

    describe("group pins", () => {
      it("stores the pins with the groups in one call, replacing a name's earlier pin", async () => {
        await store.upsertRole(role(1));
        await store.upsertRole(role(2));
        const { grants } = await store.setGroupRoles(
          "role-1",
          ["group:a", "group:b"],
          [pin("a", "id-a1"), pin("b", "id-b")],
        );
        expect(grants.groups).toEqual(["group:a", "group:b"]);
        expect(sortedPins(await store.loadGroupPins())).toEqual([pin("a", "id-a1"), pin("b", "id-b")]);
        // Granting the name again (to any role) re-pins it; the other name keeps its pin.
        await store.setGroupRoles("role-2", ["group:a"], [pin("a", "id-a2")]);
        expect(sortedPins(await store.loadGroupPins())).toEqual([pin("a", "id-a2"), pin("b", "id-b")]);
        expect((await store.getRoleGrants("role-1"))?.groups).toEqual(["group:a", "group:b"]);
      });

      it("writes no pin when the role is missing", async () => {
        await expect(
          store.setGroupRoles("role-missing", ["group:a"], [pin("a", "id-a")]),
        ).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.loadGroupPins()).toEqual([]);
      });

      it("keeps the pins of a name when its grants go, and of a deleted role's groups", async () => {
        await store.upsertRole(role(1));
        await store.setGroupRoles("role-1", ["group:a"], [pin("a", "id-a")]);
        await store.setGroupRoles("role-1", []);
        await store.deleteRole("role-1");
        expect(await store.loadGroupPins()).toEqual([pin("a", "id-a")]);
      });

      it("pins only names without a pin, and answers the pins stored for every name asked", async () => {
        await store.upsertRole(role(1));
        await store.setGroupRoles("role-1", ["group:a"], [pin("a", "id-a")]);
        const stored = await store.pinGroups([pin("a", "id-other"), pin("c", "id-c")]);
        expect(sortedPins(stored)).toEqual([pin("a", "id-a"), pin("c", "id-c")]);
        expect(sortedPins(await store.loadGroupPins())).toEqual([pin("a", "id-a"), pin("c", "id-c")]);
        expect(await store.pinGroups([])).toEqual([]);
      });

      it("loads the pins of the groups asked for", async () => {
        await store.pinGroups([pin("a", "id-a"), pin("b", "id-b")]);
        expect(sortedPins(await store.loadGroupPinsOf(["group:b", "group:a", "group:none"]))).toEqual([
          pin("a", "id-a"),
          pin("b", "id-b"),
        ]);
        expect(await store.loadGroupPinsOf([])).toEqual([]);
      });

      it("gives every one of many concurrent first pins of a name the same answer", async () => {
        const answers = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            store.pinGroups([pin("shared", `id-${i}`), pin(`own-${i}`, "x")]),
          ),
        );
        const shared = answers.map((answer) => answer.find((p) => p.group === "group:shared")?.objectId);
        expect(new Set(shared).size).toBe(1);
        expect(await store.loadGroupPins()).toContainEqual(pin("shared", shared[0]!));
        expect(await store.loadGroupPins()).toHaveLength(9);
      });

      it("moves the change marker when a pin is written", async () => {
        const before = await store.changeMarker();
        await store.pinGroups([pin("a", "id-a")]);
        expect(await store.changeMarker()).not.toBe(before);
      });

      it("leaves the grants and loadAll as they are", async () => {
        await store.upsertRole(role(1));
        await store.pinGroups([pin("a", "id-a")]);
        expect(await store.loadAll()).toEqual({ roles: [role(1)], userGrants: [], groupGrants: [] });
        expect(await store.listSubjectRoles("group:a")).toEqual([]);
      });
    });

    describe("loading and change marker", () => {
      it("loads every role, root field and grant", async () => {
        await store.upsertRole(role(1, ["a", "b"]));
        await store.upsertRole(role(2));
        await store.setUserRoles("role-1", ["user:alice", "user:bob"]);
        await store.setGroupRoles("role-2", ["group:readers"]);
        await store.setUserRoles("role-2", ["user:alice"]);

        const data = await store.loadAll();
        const byId = (a: { roleId: string }, b: { roleId: string }) => a.roleId.localeCompare(b.roleId);
        const roles = [...data.roles].sort(byId).map((r) => ({ ...r, rootFields: [...r.rootFields].sort() }));
        expect(roles).toEqual([role(1, ["a", "b"]), role(2)]);
        const key = (g: { subject: string; roleId: string }) => `${g.subject}>${g.roleId}`;
        expect(data.userGrants.map(key).sort()).toEqual([
          "user:alice>role-1",
          "user:alice>role-2",
          "user:bob>role-1",
        ]);
        expect(data.groupGrants.map(key)).toEqual(["group:readers>role-2"]);
      });

      it("loads an empty store", async () => {
        expect(await store.loadAll()).toEqual({ roles: [], userGrants: [], groupGrants: [] });
      });

      it("moves the change marker on every write and not on reads", async () => {
        const markers = [await store.changeMarker()];
        const moved = async () => {
          const marker = await store.changeMarker();
          expect(markers).not.toContain(marker);
          markers.push(marker);
        };
        await store.upsertRole(role(1, ["a"]));
        await moved();
        await store.setUserRoles("role-1", ["user:alice"]);
        await moved();
        await store.setGroupRoles("role-1", ["group:a"]);
        await moved();
        await store.upsertRole(role(1, ["b"]));
        await moved();

        await store.getRole("role-1");
        await store.getRoleGrants("role-1");
        await store.listRoles(10, undefined);
        await store.listSubjectRoles("user:alice");
        await store.loadAll();
        expect(await store.changeMarker()).toBe(markers[markers.length - 1]);

        await store.deleteRole("role-1");
        await moved();
      });

      it.skipIf(!options.grantDirectly)(
        "moves the change marker on an edit made outside the store",
        async () => {
          await store.upsertRole(role(1));
          const before = await store.changeMarker();
          await options.grantDirectly!(opened, "user:direct", "role-1");
          expect(await store.changeMarker()).not.toBe(before);
          expect(await store.listSubjectRoles("user:direct")).toEqual(["role-1"]);
        },
      );
    });

    describe("change journal", () => {
      it("lists the roles each write touched, as this client's own, up to the marker", async () => {
        const start = await store.changeMarker();
        await store.upsertRole(role(1, ["a"]));
        await store.upsertRole(role(2));
        await store.setUserRoles("role-1", ["user:alice"]);
        const read = await store.changesSince(start, 100);
        expect(entriesOf(read)).toEqual([own("role-1"), own("role-2")]);
        expect(read.complete && read.marker).toBe(await store.changeMarker());
        const after = await store.changesSince(await store.changeMarker(), 100);
        expect(entriesOf(after)).toEqual([]);
      });

      it("lists a deleted role and the groups whose pins changed", async () => {
        await store.upsertRole(role(1));
        const start = await store.changeMarker();
        await store.setGroupRoles("role-1", ["group:a"], [pin("a", "id-a")]);
        await store.pinGroups([pin("b", "id-b")]);
        await store.deleteRole("role-1");
        expect(entriesOf(await store.changesSince(start, 100))).toEqual([
          { kind: "group_pin", id: "group:a", own: true },
          { kind: "group_pin", id: "group:b", own: true },
          own("role-1"),
        ]);
      });

      it.skipIf(!options.grantDirectly)(
        "lists an edit made directly with SQL as somebody else's",
        async () => {
          await store.upsertRole(role(1));
          const start = await store.changeMarker();
          await options.grantDirectly!(opened, "user:direct", "role-1");
          await store.upsertRole(role(2));
          expect(entriesOf(await store.changesSince(start, 100))).toEqual([others("role-1"), own("role-2")]);
        },
      );

      it("says too_many past the limit, and reset for a marker it never reached", async () => {
        const start = await store.changeMarker();
        for (const n of [1, 2, 3]) await store.upsertRole(role(n));
        expect(await store.changesSince(start, 2)).toEqual({ complete: false, reason: "too_many" });
        expect(entriesOf(await store.changesSince(start, 3))).toHaveLength(3);
        const ahead = String(BigInt(await store.changeMarker()) + 1000n);
        expect(await store.changesSince(ahead, 100)).toEqual({ complete: false, reason: "reset" });
      });

      it.skipIf(!options.pruneJournal)("says pruned for a marker older than the entries kept", async () => {
        const start = await store.changeMarker();
        await store.upsertRole(role(1));
        await options.pruneJournal!(opened);
        expect(await store.changesSince(start, 100)).toEqual({ complete: false, reason: "pruned" });
        expect(entriesOf(await store.changesSince(await store.changeMarker(), 100))).toEqual([]);
      });

      it.skipIf(!options.truncateGroupGrants)("says truncated after a TRUNCATE", async () => {
        await store.upsertRole(role(1));
        const start = await store.changeMarker();
        await options.truncateGroupGrants!(opened);
        expect(await store.changesSince(start, 100)).toEqual({ complete: false, reason: "truncated" });
      });

      it("loads exactly the roles asked for, with their root fields and grants", async () => {
        await store.upsertRole(role(1, ["b", "a"]));
        await store.upsertRole(role(2, ["c"]));
        await store.setUserRoles("role-1", ["user:alice", "user:bob"]);
        await store.setGroupRoles("role-1", ["group:readers"]);
        await store.setUserRoles("role-2", ["user:carol"]);
        const data = await store.loadRoles(["role-1", "role-missing"]);
        expect(data.roles).toEqual([role(1, ["a", "b"])]);
        expect([...data.userGrants].sort((a, b) => a.subject.localeCompare(b.subject))).toEqual([
          { subject: "user:alice", roleId: "role-1" },
          { subject: "user:bob", roleId: "role-1" },
        ]);
        expect(data.groupGrants).toEqual([{ subject: "group:readers", roleId: "role-1" }]);
        expect(await store.loadRoles([])).toEqual({ roles: [], userGrants: [], groupGrants: [] });
      });

      it("takes the checksum the sidecar computes, leaving out the roles changed since the marker asked", async () => {
        expect(await store.checksum(await store.changeMarker())).toMatchObject({
          checksum: "0",
          changedRoles: [],
        });
        await store.upsertRole(role(1, ["a", "b"]));
        await store.upsertRole(role(2, ["c"]));
        await store.setUserRoles("role-1", ["user:alice", "user:élodie"]);
        await store.setGroupRoles("role-2", ["group:readers"]);
        const marker = await store.changeMarker();
        const whole = await store.checksum(marker);
        expect(whole).toEqual({ marker, checksum: mappingChecksum(await store.loadAll()), changedRoles: [] });
        await store.setUserRoles("role-2", ["user:bob"]);
        const partial = await store.checksum(marker);
        // A store that cannot leave changed roles out says so (undefined) rather than answer otherwise.
        if (partial !== undefined) {
          expect(partial.changedRoles).toEqual(["role-2"]);
          expect(partial.checksum).toBe(mappingChecksum(await store.loadAll(), new Set(["role-2"])));
        }
      });
    });

    describe("ping", () => {
      it("answers", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });
  });
}
