import { describe, expect, it } from "vitest";
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
