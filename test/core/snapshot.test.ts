import { describe, expect, it } from "vitest";
import { mappingChecksum } from "../../src/core/checksum.js";
import { reservedRoleIds } from "../../src/core/reserved-roles.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { snapshotOf } from "./fixtures.js";

const base = () =>
  snapshotOf(
    { r_orders: ["orders", "orders_aggregate"], r_customers: ["customers"] },
    {
      "user:alice_corp.com": ["r_orders"],
      "group:analysts": ["r_customers"],
      "group:sales": ["r_orders", "r_customers"],
    },
  );

describe("Snapshot", () => {
  it("indexes roles by root field and by subject", () => {
    const snapshot = base();
    expect([...snapshot.rolesForField("orders")]).toEqual(["r_orders"]);
    expect([...snapshot.rolesForField("unmapped")]).toEqual([]);
    expect([...snapshot.rolesOfSubject("group:sales")].sort()).toEqual(["r_customers", "r_orders"]);
    expect(snapshot.roleCount).toBe(2);
    expect(snapshot.grants).toBe(4);
    expect(snapshot.role("r_customers")).toEqual({
      roleId: "r_customers",
      componentId: "c-r_customers",
      rootFields: ["customers"],
    });
  });

  it("follows a subject's roles as it goes from one to two and back to none", () => {
    const snapshot = base();
    const rolesOfBob = () => [...snapshot.rolesOf("user:bob_corp.com", [])].sort();
    snapshot.replaceGrants("r_orders", "user:", ["user:alice_corp.com", "user:bob_corp.com"]);
    expect(rolesOfBob()).toEqual(["r_orders"]);
    snapshot.replaceGrants("r_customers", "user:", ["user:bob_corp.com"]);
    expect(rolesOfBob()).toEqual(["r_customers", "r_orders"]);
    expect([...snapshot.rolesOfSubject("user:bob_corp.com")].sort()).toEqual(["r_customers", "r_orders"]);
    snapshot.replaceGrants("r_orders", "user:", ["user:alice_corp.com"]);
    expect(rolesOfBob()).toEqual(["r_customers"]);
    snapshot.replaceGrants("r_customers", "user:", []);
    expect(rolesOfBob()).toEqual([]);
    expect(snapshot.rolesOfSubject("user:bob_corp.com").size).toBe(0);
    expect([...snapshot.rolesOf("user:alice_corp.com", [])]).toEqual(["r_orders"]);
    expect(snapshot.grants).toBe(4);
  });

  it.each([
    { user: "user:alice_corp.com", groups: [], expected: ["r_orders"] },
    { user: "user:alice_corp.com", groups: ["group:analysts"], expected: ["r_customers", "r_orders"] },
    { user: "user:bob_corp.com", groups: ["group:analysts"], expected: ["r_customers"] },
    { user: "user:bob_corp.com", groups: ["group:unknown"], expected: [] },
    // A group subject never matches a user grant of the same name, nor the other way round.
    { user: "user:analysts", groups: ["group:alice_corp.com"], expected: [] },
  ])("unites the roles of $user and $groups", ({ user, groups, expected }) => {
    expect([...base().rolesOf(user, groups)].sort()).toEqual(expected);
  });

  it("replaces a role's root fields on putRole and keeps its grants", () => {
    const snapshot = base();
    snapshot.putRole({ roleId: "r_orders", componentId: "c-r_orders", rootFields: ["invoices"] });
    expect(snapshot.rolesForField("orders").size).toBe(0);
    expect([...snapshot.rolesForField("invoices")]).toEqual(["r_orders"]);
    expect([...snapshot.rolesOfSubject("user:alice_corp.com")]).toEqual(["r_orders"]);
  });

  it("removes a role with its fields and grants on deleteRole", () => {
    const snapshot = base();
    snapshot.deleteRole("r_orders");
    expect(snapshot.role("r_orders")).toBeUndefined();
    expect(snapshot.rolesForField("orders").size).toBe(0);
    expect(snapshot.rolesOf("user:alice_corp.com", ["group:sales"])).toEqual(new Set(["r_customers"]));
    expect(snapshot.grants).toBe(2);
    snapshot.deleteRole("r_orders"); // a second delete changes nothing
    expect(snapshot.grants).toBe(2);
  });

  it("makes exactly the listed subjects of one kind hold a role, leaving the other kind alone", () => {
    const snapshot = base();
    snapshot.replaceGrants("r_orders", "user:", ["user:bob_corp.com", "user:carol_corp.com"]);
    expect(snapshot.grantsOf("r_orders")).toEqual({
      users: ["user:bob_corp.com", "user:carol_corp.com"],
      groups: ["group:sales"],
    });
    expect(snapshot.rolesOfSubject("user:alice_corp.com").size).toBe(0);
    snapshot.replaceGrants("r_orders", "group:", []);
    expect(snapshot.grantsOf("r_orders").groups).toEqual([]);
    expect(snapshot.grants).toBe(4);
  });

  it("counts a grant given twice once", () => {
    const snapshot = Snapshot.from({
      roles: [{ roleId: "r", componentId: "c", rootFields: ["f"] }],
      userGrants: [
        { subject: "user:a", roleId: "r" },
        { subject: "user:a", roleId: "r" },
      ],
      groupGrants: [],
    });
    expect(snapshot.grants).toBe(1);
  });
});

describe("Snapshot and reserved roles", () => {
  // As rows written with SQL or through Hasura's console could leave them: admin mapped and granted.
  const data = {
    roles: [
      { roleId: "admin", componentId: "c-admin", rootFields: ["orders", "payroll"] },
      { roleId: "anonymous", componentId: "c-anonymous", rootFields: ["orders"] },
      { roleId: "Admin", componentId: "c-Admin", rootFields: ["audit"] },
      { roleId: "r_orders", componentId: "c-r_orders", rootFields: ["orders"] },
    ],
    userGrants: [
      { subject: "user:mallory", roleId: "admin" },
      { subject: "user:mallory", roleId: "r_orders" },
      { subject: "user:ann", roleId: "Admin" },
    ],
    groupGrants: [
      { subject: "group:ops", roleId: "admin" },
      { subject: "group:ops", roleId: "anonymous" },
    ],
  };

  it.each([
    {
      name: "admin only, by default",
      reserved: undefined,
      roles: 3,
      grants: 3,
      ignored: { roleIds: ["admin"], rows: 3 },
      answerable: ["anonymous", "r_orders"],
      mallory: ["admin"],
      ops: ["admin"],
    },
    {
      name: "admin and RESERVED_ROLE_IDS",
      reserved: reservedRoleIds(["anonymous"]),
      roles: 2,
      grants: 2,
      ignored: { roleIds: ["admin", "anonymous"], rows: 5 },
      answerable: ["r_orders"],
      mallory: ["admin"],
      ops: ["admin", "anonymous"],
    },
  ])("leaves reserved rows out and counts them: $name", ({ reserved, roles, grants, ignored, ...held }) => {
    const snapshot = Snapshot.from(data, reserved);
    expect(snapshot.roleCount).toBe(roles);
    expect(snapshot.grants).toBe(grants);
    expect(snapshot.ignoredReserved).toEqual(ignored);
    expect(snapshot.role("admin")).toBeUndefined();
    expect([...snapshot.rolesForField("payroll")]).toEqual([]);
    expect([...snapshot.rolesOf("user:mallory", ["group:ops"])].sort()).toEqual(held.answerable);
    expect([...snapshot.reservedRolesOf("user:mallory", [])]).toEqual(held.mallory);
    expect([...snapshot.reservedRolesOf("user:nobody", ["group:ops"])].sort()).toEqual(held.ops);
    // Role names are case-sensitive, as in Hasura: Admin is an ordinary role.
    expect(snapshot.isReserved("Admin")).toBe(false);
    expect([...snapshot.rolesOf("user:ann", [])]).toEqual(["Admin"]);
    expect(snapshot.grantsOf("admin")).toEqual({ users: [], groups: [] });
  });

  it("counts nothing when the store holds no reserved role", () => {
    expect(base().ignoredReserved).toEqual({ roleIds: [], rows: 0 });
    expect(base().reservedRolesOf("user:alice_corp.com", ["group:sales"]).size).toBe(0);
  });

  it("ignores in-place writes of a reserved role", () => {
    const snapshot = base();
    snapshot.putRole({ roleId: "admin", componentId: "c-admin", rootFields: ["orders"] });
    snapshot.replaceGrants("admin", "user:", ["user:alice_corp.com"]);
    expect([...snapshot.rolesForField("orders")]).toEqual(["r_orders"]);
    expect([...snapshot.rolesOfSubject("user:alice_corp.com")]).toEqual(["r_orders"]);
    expect(snapshot.reservedRolesOf("user:alice_corp.com", []).size).toBe(0);
  });

  it("forgets who holds a reserved role once it is deleted, as a changed snapshot", () => {
    const snapshot = Snapshot.from(data);
    const version = snapshot.version;
    snapshot.deleteRole("admin");
    expect(snapshot.reservedRolesOf("user:mallory", ["group:ops"]).size).toBe(0);
    expect(snapshot.version).toBeGreaterThan(version);
    expect([...snapshot.rolesOf("user:mallory", [])]).toEqual(["r_orders"]);
  });
});

describe("Snapshot swapping roles in", () => {
  it("replaces everything of the roles named, deleting those the data lacks, as one change", () => {
    const snapshot = base();
    const version = snapshot.version;
    snapshot.replaceRoles(["r_orders", "r_customers", "r_new"], {
      roles: [
        { roleId: "r_orders", componentId: "c-r_orders", rootFields: ["orders_v2"] },
        { roleId: "r_new", componentId: "c-r_new", rootFields: ["customers"] },
      ],
      userGrants: [{ subject: "user:bob_corp.com", roleId: "r_orders" }],
      groupGrants: [{ subject: "group:sales", roleId: "r_new" }],
    });
    expect(snapshot.version).toBeGreaterThan(version);
    expect([...snapshot.rolesForField("orders")]).toEqual([]);
    expect([...snapshot.rolesForField("orders_v2")]).toEqual(["r_orders"]);
    expect([...snapshot.rolesForField("customers")]).toEqual(["r_new"]);
    expect(snapshot.role("r_customers")).toBeUndefined();
    expect([...snapshot.rolesOf("user:alice_corp.com", ["group:analysts"])]).toEqual([]);
    expect([...snapshot.rolesOf("user:bob_corp.com", ["group:sales"])].sort()).toEqual(["r_new", "r_orders"]);
    expect(snapshot.grants).toBe(2);
  });

  it("drops the grants of a role the store no longer has, and leaves the roles not named alone", () => {
    // Grants can outlive their role in tables without foreign keys; the snapshot indexes them all the same.
    const snapshot = Snapshot.from({
      roles: [{ roleId: "kept", componentId: "c", rootFields: ["f"] }],
      userGrants: [
        { subject: "user:a", roleId: "gone" },
        { subject: "user:a", roleId: "kept" },
      ],
      groupGrants: [],
    });
    snapshot.replaceRoles(["gone"], { roles: [], userGrants: [], groupGrants: [] });
    expect([...snapshot.rolesOfSubject("user:a")]).toEqual(["kept"]);
  });

  it("counts the rows of a reserved role swapped in or out", () => {
    const snapshot = base();
    const admin = { roleId: "admin", componentId: "c-admin", rootFields: ["orders"] };
    snapshot.replaceRoles(["admin"], {
      roles: [admin],
      userGrants: [{ subject: "user:mallory", roleId: "admin" }],
      groupGrants: [],
    });
    expect(snapshot.ignoredReserved).toEqual({ roleIds: ["admin"], rows: 2 });
    expect(snapshot.holdsReserved("admin")).toBe(true);
    expect([...snapshot.reservedRolesOf("user:mallory", [])]).toEqual(["admin"]);
    expect([...snapshot.rolesForField("orders")]).toEqual(["r_orders"]);
    snapshot.replaceRoles(["admin"], { roles: [], userGrants: [], groupGrants: [] });
    expect(snapshot.ignoredReserved).toEqual({ roleIds: [], rows: 0 });
    expect(snapshot.reservedRolesOf("user:mallory", []).size).toBe(0);
  });
});

describe("Snapshot checksum", () => {
  const data = {
    roles: [
      { roleId: "admin", componentId: "c-admin", rootFields: ["payroll"] },
      { roleId: "r1", componentId: "c1", rootFields: ["a", "b"] },
      { roleId: "r2", componentId: "c2", rootFields: [] },
    ],
    userGrants: [
      { subject: "user:u", roleId: "r1" },
      { subject: "user:m", roleId: "admin" },
      { subject: "user:o", roleId: "orphan" },
    ],
    groupGrants: [{ subject: "group:g", roleId: "r2" }],
  };

  it("is the store's checksum of the rows it was built from, reserved and orphaned ones included", () => {
    expect(Snapshot.from(data).checksumExcept([])).toBe(mappingChecksum(data));
    expect(Snapshot.from(data).checksumExcept(["r1", "admin"])).toBe(
      mappingChecksum(data, new Set(["r1", "admin"])),
    );
  });

  it("follows every change made in place or swapped in", () => {
    const snapshot = Snapshot.from(data);
    snapshot.putRole({ roleId: "r2", componentId: "c2", rootFields: ["x"] });
    snapshot.replaceGrants("r1", "user:", ["user:v", "user:w"]);
    snapshot.deleteRole("admin");
    snapshot.replaceRoles(["r3"], {
      roles: [{ roleId: "r3", componentId: "c3", rootFields: ["y"] }],
      userGrants: [],
      groupGrants: [{ subject: "group:h", roleId: "r3" }],
    });
    const now = {
      roles: [
        { roleId: "r1", componentId: "c1", rootFields: ["a", "b"] },
        { roleId: "r2", componentId: "c2", rootFields: ["x"] },
        { roleId: "r3", componentId: "c3", rootFields: ["y"] },
      ],
      userGrants: [
        { subject: "user:v", roleId: "r1" },
        { subject: "user:w", roleId: "r1" },
        { subject: "user:o", roleId: "orphan" },
      ],
      groupGrants: [
        { subject: "group:g", roleId: "r2" },
        { subject: "group:h", roleId: "r3" },
      ],
    };
    expect(snapshot.checksumExcept([])).toBe(mappingChecksum(now));
    expect(snapshot.checksumExcept(["r3", "r3"])).toBe(mappingChecksum(now, new Set(["r3"])));
  });
});

describe("Snapshot unpinned group names", () => {
  // What unpinnedGroups must equal: every granted group subject without a pin, recounted from scratch.
  const recount = (snapshot: Snapshot, subjects: readonly string[]) =>
    subjects
      .filter((subject) => subject.startsWith("group:") && snapshot.rolesOfSubject(subject).size > 0)
      .filter((subject) => snapshot.pins.objectIdOf(subject) === undefined)
      .sort();
  const subjects = ["group:a", "group:b", "group:c", "user:u"];

  it("follows grants and pins through every kind of change", () => {
    const snapshot = Snapshot.from({
      roles: [{ roleId: "r", componentId: "c", rootFields: ["orders"] }],
      userGrants: [{ subject: "user:u", roleId: "r" }],
      groupGrants: [
        { subject: "group:a", roleId: "r" },
        { subject: "group:b", roleId: "r" },
      ],
      groupPins: [{ group: "group:a", objectId: "id-a" }],
    });
    const steps: [string, () => void, string[]][] = [
      ["built", () => {}, ["group:b"]],
      [
        "granted",
        () => snapshot.replaceGrants("r", "group:", ["group:a", "group:b", "group:c"]),
        ["group:b", "group:c"],
      ],
      ["pinned", () => snapshot.putPins([{ group: "group:c", objectId: "id-c" }]), ["group:b"]],
      ["unpinned", () => snapshot.replacePins(["group:a", "group:c"], []), ["group:a", "group:b", "group:c"]],
      ["revoked", () => snapshot.replaceGrants("r", "group:", ["group:c"]), ["group:c"]],
      ["pin of a name not granted", () => snapshot.replacePins(["group:b"], []), ["group:c"]],
      ["deleted", () => snapshot.deleteRole("r"), []],
    ];
    for (const [step, change, expected] of steps) {
      change();
      expect([...snapshot.unpinnedGroups()].sort(), step).toEqual(expected);
      expect(recount(snapshot, subjects), step).toEqual(expected);
    }
  });
});
