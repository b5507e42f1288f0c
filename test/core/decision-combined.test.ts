import { describe, expect, it } from "vitest";
import { decide, type Decision, type DecisionInput } from "../../src/core/decision.js";
import type { Operation } from "../../src/core/operation.js";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { op, q, snapshotOf } from "./fixtures.js";

// Issue 16 §1: with COMBINED_ROLES=hasura, a covering set of held roles answers as one inherited role.
const snapshot = snapshotOf({
  r_orders: ["orders", "orders_aggregate"],
  r_customers: ["customers"],
  r_both: ["orders", "customers"],
  r_ship: ["shipments"],
  r_empty: [],
  r_empty_too: [],
});
const combine = { maxParents: 8, prefix: "rolemapper_combined_" };
const name = (...parents: string[]) => combinedRoleName(combine.prefix, parents);

interface Row {
  readonly name: string;
  readonly held: readonly string[];
  readonly operations: readonly Operation[] | null;
  readonly requested?: string;
  readonly off?: boolean;
  readonly max?: number;
  readonly expected: Partial<Decision>;
}

const combined = (parents: string[], rootFields?: string[]): Partial<Decision> => ({
  allowed: true,
  role: name(...parents),
  reason: "allowed",
  parents,
  ...(rootFields ? { rootFields } : {}),
});
const deny = (reason: Decision["reason"]): Partial<Decision> => ({ allowed: false, role: undefined, reason });

const rows: Row[] = [
  {
    name: "two ports held apart: the combined role of both",
    held: ["r_orders", "r_customers"],
    operations: [q("orders", "customers")],
    expected: combined(["r_customers", "r_orders"], ["orders", "customers"]),
  },
  {
    name: "a single role that fits still wins, no combination",
    held: ["r_orders", "r_customers", "r_both"],
    operations: [q("orders", "customers")],
    expected: { allowed: true, role: "r_both", reason: "allowed", parents: undefined },
  },
  {
    name: "across a batch",
    held: ["r_orders", "r_ship"],
    operations: [q("orders"), q("shipments")],
    expected: combined(["r_orders", "r_ship"]),
  },
  {
    name: "off: nothing changes",
    held: ["r_orders", "r_customers"],
    operations: [q("orders", "customers")],
    off: true,
    expected: deny("no_role_for_fields"),
  },
  {
    name: "a field none of the held roles maps",
    held: ["r_orders"],
    operations: [q("orders", "customers")],
    expected: deny("no_role_for_fields"),
  },
  {
    name: "more parents than allowed",
    held: ["r_orders", "r_customers", "r_ship"],
    operations: [q("orders", "customers", "shipments")],
    max: 2,
    expected: deny("no_role_for_fields"),
  },
  {
    name: "X-Hasura-Role set: no combination",
    held: ["r_orders", "r_customers"],
    operations: [q("orders", "customers")],
    requested: "r_orders",
    expected: deny("role_not_allowed_for_fields"),
  },
  {
    name: "mutations stay denied",
    held: ["r_orders", "r_customers"],
    operations: [op("mutation", "orders", "customers")],
    expected: deny("mutation"),
  },
  {
    name: "connection_init with several roles: all of them combined",
    held: ["r_ship", "r_orders", "r_customers"],
    operations: null,
    expected: combined(["r_customers", "r_orders", "r_ship"], []),
  },
  {
    name: "connection_init with more roles than allowed: role_required",
    held: ["r_ship", "r_orders", "r_customers"],
    operations: null,
    max: 2,
    expected: deny("role_required"),
  },
  {
    name: "connection_init with one role: that role",
    held: ["r_ship"],
    operations: null,
    expected: { allowed: true, role: "r_ship", parents: undefined },
  },
  {
    name: "connection_init: a held role mapping no root field is left out of the combination",
    held: ["r_ship", "r_empty", "r_orders"],
    operations: null,
    expected: combined(["r_orders", "r_ship"], []),
  },
  {
    name: "connection_init: one role maps a root field, the others none: that role alone",
    held: ["r_empty", "r_ship", "r_empty_too"],
    operations: null,
    expected: { allowed: true, role: "r_ship", parents: undefined },
  },
  {
    name: "connection_init: no held role maps a root field: role_required",
    held: ["r_empty", "r_empty_too"],
    operations: null,
    expected: deny("role_required"),
  },
  {
    name: "connection_init: roles mapping nothing do not count towards the limit",
    held: ["r_ship", "r_orders", "r_empty", "r_empty_too"],
    operations: null,
    max: 2,
    expected: combined(["r_orders", "r_ship"], []),
  },
  {
    name: "connection_init off, a role mapping nothing among several: role_required as before",
    held: ["r_ship", "r_empty"],
    operations: null,
    off: true,
    expected: deny("role_required"),
  },
  {
    name: "connection_init off: role_required as before",
    held: ["r_ship", "r_orders"],
    operations: null,
    off: true,
    expected: deny("role_required"),
  },
];

describe("decide with combined roles", () => {
  it.each(rows)("$name", ({ held, operations, requested, off, max, expected }) => {
    const input: DecisionInput = {
      heldRoles: new Set(held),
      operations,
      requestedRole: requested,
      allowIntrospection: false,
      combine: off ? undefined : { ...combine, maxParents: max ?? combine.maxParents },
    };
    const { parents, ...rest } = expected;
    const decision = decide(input, snapshot);
    expect(decision).toMatchObject(rest);
    expect(decision.parents).toEqual(parents);
  });

  it("asking for a reserved role is refused before any combination", () => {
    const input: DecisionInput = {
      heldRoles: new Set(["r_orders", "r_customers"]),
      operations: [q("orders", "customers")],
      requestedRole: "admin",
      allowIntrospection: false,
      combine,
    };
    expect(decide(input, snapshot)).toMatchObject(deny("reserved_role"));
  });
});
