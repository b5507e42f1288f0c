import { describe, expect, it } from "vitest";
import { candidateRoles, decide, type Decision } from "../../src/core/decision.js";
import type { Operation } from "../../src/core/operation.js";
import { reservedRoleIds } from "../../src/core/reserved-roles.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { op, q, snapshotOf } from "./fixtures.js";

// One output port per role, as the provisioner creates them; r_both spans two ports, a_first/z_last share one.
// `Admin` is an ordinary role: Hasura's role names are case-sensitive, only `admin` is its superuser.
const snapshot = snapshotOf({
  r_orders: ["orders", "orders_aggregate"],
  r_customers: ["customers"],
  r_both: ["orders", "customers"],
  a_first: ["shipments"],
  z_last: ["shipments"],
  Admin: ["audit"],
});

interface Row {
  readonly name: string;
  readonly held: readonly string[];
  readonly operations: readonly Operation[] | null;
  readonly requested?: string;
  readonly introspection?: boolean;
  /** The caller's subjects hold a reserved role in the store. */
  readonly holdsReserved?: boolean;
  readonly expected: Partial<Decision>;
}

const allow = (role: string, rootFields?: string[]): Partial<Decision> => ({
  allowed: true,
  role,
  reason: "allowed",
  ...(rootFields ? { rootFields } : {}),
});
const deny = (reason: Decision["reason"], rootFields?: string[]): Partial<Decision> => ({
  allowed: false,
  role: undefined,
  reason,
  ...(rootFields ? { rootFields } : {}),
});

const rows: Row[] = [
  // allowed
  {
    name: "one field, its role held",
    held: ["r_orders"],
    operations: [q("orders")],
    expected: allow("r_orders", ["orders"]),
  },
  {
    name: "two fields of one role",
    held: ["r_orders"],
    operations: [q("orders", "orders_aggregate")],
    expected: allow("r_orders", ["orders", "orders_aggregate"]),
  },
  {
    name: "a subscription, like a query",
    held: ["r_orders"],
    operations: [op("subscription", "orders")],
    expected: allow("r_orders"),
  },
  {
    name: "a role held among others that do not fit",
    held: ["r_customers", "r_orders"],
    operations: [q("orders_aggregate")],
    expected: allow("r_orders"),
  },
  // no_roles
  { name: "no roles held", held: [], operations: [q("orders")], expected: deny("no_roles") },
  { name: "no roles held, connection_init", held: [], operations: null, expected: deny("no_roles") },
  {
    name: "no roles held, __typename only",
    held: [],
    operations: [q("__typename")],
    expected: deny("no_roles"),
  },
  // mutation
  {
    name: "a mutation",
    held: ["r_orders"],
    operations: [op("mutation", "orders")],
    expected: deny("mutation", ["orders"]),
  },
  {
    name: "a mutation inside a batch of queries",
    held: ["r_orders"],
    operations: [q("orders"), op("mutation", "insert_orders")],
    expected: deny("mutation"),
  },
  {
    name: "a mutation of __typename only",
    held: ["r_orders"],
    operations: [op("mutation", "__typename")],
    expected: deny("mutation"),
  },
  // introspection
  {
    name: "__schema when introspection is off",
    held: ["r_orders"],
    operations: [q("__schema")],
    expected: deny("introspection", ["__schema"]),
  },
  {
    name: "__type when introspection is off",
    held: ["r_orders"],
    operations: [q("orders", "__type")],
    expected: deny("introspection", ["__type"]),
  },
  {
    name: "__schema when introspection is on: smallest held role",
    held: ["r_orders", "r_customers"],
    operations: [q("__schema")],
    introspection: true,
    expected: allow("r_customers", []),
  },
  {
    name: "__type beside a field when introspection is on: the field decides",
    held: ["r_customers", "r_orders"],
    operations: [q("__type", "orders")],
    introspection: true,
    expected: allow("r_orders", ["orders"]),
  },
  // no_role_for_fields
  {
    name: "field mapped only to a role not held",
    held: ["r_customers"],
    operations: [q("orders_aggregate")],
    expected: deny("no_role_for_fields", ["orders_aggregate"]),
  },
  {
    name: "field mapped to no role",
    held: ["r_orders"],
    operations: [q("secrets")],
    expected: deny("no_role_for_fields", ["secrets"]),
  },
  {
    name: "fields of two roles, neither maps both",
    held: ["r_orders", "r_customers"],
    operations: [q("orders_aggregate", "customers")],
    expected: deny("no_role_for_fields"),
  },
  // requested role
  {
    name: "requested role held and fitting, though not the smallest",
    held: ["r_both", "r_orders"],
    operations: [q("orders")],
    requested: "r_orders",
    expected: allow("r_orders"),
  },
  {
    name: "requested role not held",
    held: ["r_orders"],
    operations: [q("orders")],
    requested: "r_both",
    expected: deny("role_not_held"),
  },
  {
    name: "requested role unknown",
    held: ["r_orders"],
    operations: [q("orders")],
    requested: "sales_admin",
    expected: deny("role_not_held"),
  },
  {
    name: "requested role held but not mapped to the fields",
    held: ["r_orders", "r_customers"],
    operations: [q("orders")],
    requested: "r_customers",
    expected: deny("role_not_allowed_for_fields", ["orders"]),
  },
  {
    name: "requested role fits one batch entry but not the other",
    held: ["r_orders", "r_customers", "r_both"],
    operations: [q("orders"), q("orders_aggregate")],
    requested: "r_both",
    expected: deny("role_not_allowed_for_fields"),
  },
  {
    name: "requested role with __typename only",
    held: ["r_orders", "r_customers"],
    operations: [q("__typename")],
    requested: "r_orders",
    expected: allow("r_orders", []),
  },
  // reserved roles (Hasura's admin): never answered, asked for or not
  {
    name: "admin asked for, another fitting role held",
    held: ["r_orders"],
    operations: [q("orders", "__typename"), q("customers", "__schema")],
    requested: "admin",
    expected: deny("reserved_role", ["orders", "customers"]),
  },
  {
    name: "admin asked for with no role held",
    held: [],
    operations: [q("orders")],
    requested: "admin",
    expected: deny("reserved_role"),
  },
  {
    name: "admin asked for in a mutation: the reserved role is the reason",
    held: ["r_orders"],
    operations: [op("mutation", "orders")],
    requested: "admin",
    expected: deny("reserved_role", ["orders"]),
  },
  {
    name: "admin asked for at connection_init",
    held: ["r_orders"],
    operations: null,
    requested: "admin",
    expected: deny("reserved_role", []),
  },
  {
    name: "admin asked for by a caller holding it in the store",
    held: [],
    operations: [q("orders")],
    requested: "admin",
    holdsReserved: true,
    expected: deny("reserved_role"),
  },
  {
    name: "only a reserved role held in the store, none asked",
    held: [],
    operations: [q("orders")],
    holdsReserved: true,
    expected: deny("reserved_role", []),
  },
  {
    name: "only a reserved role held in the store, connection_init",
    held: [],
    operations: null,
    holdsReserved: true,
    expected: deny("reserved_role"),
  },
  {
    name: "a reserved role held beside a fitting one: the fitting one, as if the reserved were absent",
    held: ["r_orders"],
    operations: [q("orders")],
    holdsReserved: true,
    expected: allow("r_orders"),
  },
  {
    name: "a reserved role held beside one that does not fit",
    held: ["r_customers"],
    operations: [q("orders")],
    holdsReserved: true,
    expected: deny("no_role_for_fields", ["orders"]),
  },
  {
    name: "ADMIN asked for: not reserved (case-sensitive), and not held",
    held: ["r_orders"],
    operations: [q("orders")],
    requested: "ADMIN",
    expected: deny("role_not_held"),
  },
  {
    name: "Admin asked for and held: an ordinary role",
    held: ["Admin"],
    operations: [q("audit")],
    requested: "Admin",
    expected: allow("Admin", ["audit"]),
  },
  {
    name: "Admin chosen without asking: an ordinary role",
    held: ["Admin", "r_orders"],
    operations: [q("audit")],
    expected: allow("Admin"),
  },
  // batches
  {
    name: "batch of fields of one role",
    held: ["r_orders"],
    operations: [q("orders"), q("orders_aggregate")],
    expected: allow("r_orders", ["orders", "orders_aggregate"]),
  },
  {
    name: "batch mixing two ports, one held role maps both",
    held: ["r_orders", "r_customers", "r_both"],
    operations: [q("orders"), q("customers")],
    expected: allow("r_both", ["orders", "customers"]),
  },
  {
    name: "batch mixing two ports, the role mapping both is not held",
    held: ["r_orders", "r_customers"],
    operations: [q("orders"), q("customers")],
    expected: deny("no_role_for_fields", ["orders", "customers"]),
  },
  {
    name: "batch repeating a field counts it once",
    held: ["r_orders"],
    operations: [q("orders"), q("orders")],
    expected: allow("r_orders", ["orders"]),
  },
  // websocket connection_init (request null)
  {
    name: "connection_init, one role held",
    held: ["r_orders"],
    operations: null,
    expected: allow("r_orders", []),
  },
  {
    name: "connection_init, several held, none asked",
    held: ["r_orders", "r_customers"],
    operations: null,
    expected: deny("role_required"),
  },
  {
    name: "connection_init, asked role held",
    held: ["r_orders", "r_customers"],
    operations: null,
    requested: "r_customers",
    expected: allow("r_customers"),
  },
  {
    name: "connection_init, asked role not held",
    held: ["r_orders"],
    operations: null,
    requested: "r_customers",
    expected: deny("role_not_held"),
  },
  // meta fields
  {
    name: "__typename only: any held role, the smallest",
    held: ["r_orders", "r_customers"],
    operations: [q("__typename")],
    expected: allow("r_customers", []),
  },
  {
    name: "__typename beside a field is left out",
    held: ["r_customers", "r_orders"],
    operations: [q("__typename", "orders")],
    expected: allow("r_orders", ["orders"]),
  },
  // deterministic choice
  {
    name: "several fitting roles: smallest id",
    held: ["z_last", "a_first"],
    operations: [q("shipments")],
    expected: allow("a_first"),
  },
  {
    name: "several fitting roles, other order: smallest id",
    held: ["a_first", "z_last", "r_orders"],
    operations: [q("shipments")],
    expected: allow("a_first"),
  },
  {
    name: "r_both and r_orders both fit orders: smallest id",
    held: ["r_orders", "r_both"],
    operations: [q("orders")],
    expected: allow("r_both"),
  },
];

describe("decide", () => {
  it.each(rows)("$name", ({ held, operations, requested, introspection, holdsReserved, expected }) => {
    const decision = decide(
      {
        heldRoles: new Set(held),
        operations,
        requestedRole: requested,
        allowIntrospection: introspection ?? false,
        holdsReservedRole: holdsReserved ?? false,
      },
      snapshot,
    );
    expect(decision).toMatchObject(expected);
  });

  it("gives the same role whatever order the held roles were collected in", () => {
    const orders = [
      ["z_last", "a_first"],
      ["a_first", "z_last"],
    ];
    const roles = orders.map(
      (held) =>
        decide(
          {
            heldRoles: new Set(held),
            operations: [q("shipments")],
            requestedRole: undefined,
            allowIntrospection: false,
          },
          snapshot,
        ).role,
    );
    expect(roles).toEqual(["a_first", "a_first"]);
  });

  it("follows the snapshot: a field mapped after a write is allowed on the next decision", () => {
    const live = snapshotOf({ r_orders: ["orders"] });
    const input = {
      heldRoles: new Set(["r_orders"]),
      operations: [q("invoices")],
      requestedRole: undefined,
      allowIntrospection: false,
    };
    expect(decide(input, live).reason).toBe("no_role_for_fields");
    live.putRole({ roleId: "r_orders", componentId: "c-r_orders", rootFields: ["orders", "invoices"] });
    expect(decide(input, live)).toMatchObject({ allowed: true, role: "r_orders" });
  });
});

describe("decide with RESERVED_ROLE_IDS", () => {
  // The snapshot is built as the store holds it: anonymous and admin rows are left out when it is built.
  const reserved = Snapshot.from(
    {
      roles: [
        { roleId: "anonymous", componentId: "c-anonymous", rootFields: ["orders"] },
        { roleId: "admin", componentId: "c-admin", rootFields: ["orders"] },
        { roleId: "r_orders", componentId: "c-r_orders", rootFields: ["orders"] },
      ],
      userGrants: [
        { subject: "user:ann", roleId: "anonymous" },
        { subject: "user:ann", roleId: "admin" },
      ],
      groupGrants: [],
    },
    reservedRoleIds(["anonymous"]),
  );
  const decideFor = (requestedRole: string | undefined, held: string[]) =>
    decide(
      { heldRoles: new Set(held), operations: [q("orders")], requestedRole, allowIntrospection: false },
      reserved,
    );

  it.each([
    { requested: "anonymous", held: ["r_orders"], reason: "reserved_role" },
    { requested: "admin", held: ["r_orders"], reason: "reserved_role" },
    { requested: "Anonymous", held: ["r_orders"], reason: "role_not_held" },
    { requested: undefined, held: ["r_orders"], reason: "allowed" },
  ])("asked for $requested → $reason", ({ requested, held, reason }) => {
    expect(decideFor(requested, held).reason).toBe(reason);
  });

  it("never offers a reserved role as a candidate", () => {
    expect(candidateRoles(["orders"], reserved)).toEqual(["r_orders"]);
    expect([...reserved.rolesForField("orders")]).toEqual(["r_orders"]);
  });
});

describe("candidateRoles", () => {
  it.each([
    { fields: [] as string[], expected: [] as string[] },
    { fields: ["orders"], expected: ["r_both", "r_orders"] },
    { fields: ["orders", "orders_aggregate"], expected: ["r_orders"] },
    { fields: ["orders", "customers"], expected: ["r_both"] },
    { fields: ["shipments"], expected: ["a_first", "z_last"] },
    { fields: ["orders", "shipments"], expected: [] },
    { fields: ["unmapped"], expected: [] },
  ])("roles mapped to every one of $fields", ({ fields, expected }) => {
    expect(candidateRoles(fields, snapshot)).toEqual(expected);
  });
});
