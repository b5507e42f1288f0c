import { describe, expect, it } from "vitest";
import { decide } from "../../src/core/decision.js";
import {
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../../src/core/errors.js";
import type { MappingService } from "../../src/core/mapping-service.js";
import { reservedRoleIds } from "../../src/core/reserved-roles.js";
import { q } from "./fixtures.js";
import { serviceOverFakeStore } from "./mapping-service-fixture.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

async function setup(
  limits = { maxSubjects: 3, maxRootFields: 3, maxPageSize: 2 },
  reserved?: ReadonlySet<string>,
) {
  const { store, sync, service } = await serviceOverFakeStore({ limits, ...(reserved ? { reserved } : {}) });
  // What the webhook would answer for this user and query on this replica, right now.
  const decideFor = (user: string, groups: string[], field: string) => {
    const snapshot = sync.fresh();
    return decide(
      {
        heldRoles: snapshot.rolesOf(user, groups),
        operations: [q(field)],
        requestedRole: undefined,
        allowIntrospection: false,
      },
      snapshot,
    );
  };
  return { store, sync, service, decideFor };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("MappingService writes reach the next decision on this replica", () => {
  it("upsert role, grant a user, grant a group, then revoke and delete", async () => {
    const { service, decideFor } = await setup();
    await service.upsertRole(INTERNAL_CALLER, {
      roleId: "r_orders",
      componentId: "c1",
      rootFields: ["orders"],
    });
    expect(decideFor("user:alice", [], "orders").reason).toBe("no_roles");

    await service.setUserRoles(INTERNAL_CALLER, "r_orders", ["user:alice"]);
    expect(decideFor("user:alice", [], "orders")).toMatchObject({ allowed: true, role: "r_orders" });

    await service.setGroupRoles(INTERNAL_CALLER, "r_orders", ["group:analysts"]);
    expect(decideFor("user:bob", ["group:analysts"], "orders")).toMatchObject({
      allowed: true,
      role: "r_orders",
    });

    await service.upsertRole(INTERNAL_CALLER, {
      roleId: "r_orders",
      componentId: "c1",
      rootFields: ["orders", "invoices"],
    });
    expect(decideFor("user:alice", [], "invoices")).toMatchObject({ allowed: true });

    await service.upsertRole(INTERNAL_CALLER, {
      roleId: "r_orders",
      componentId: "c1",
      rootFields: ["invoices"],
    });
    expect(decideFor("user:alice", [], "orders").reason).toBe("no_role_for_fields");

    await service.setUserRoles(INTERNAL_CALLER, "r_orders", []);
    expect(decideFor("user:alice", [], "invoices").reason).toBe("no_roles");
    expect(decideFor("user:bob", ["group:analysts"], "invoices").allowed).toBe(true);

    await service.deleteRole(INTERNAL_CALLER, "r_orders");
    expect(decideFor("user:bob", ["group:analysts"], "invoices").reason).toBe("no_roles");
  });

  it("set calls leave the other kind of subject alone", async () => {
    const { service } = await setup();
    await service.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: ["f"] });
    await service.setGroupRoles(INTERNAL_CALLER, "r", ["group:g"]);
    await service.setUserRoles(INTERNAL_CALLER, "r", ["user:a", "user:b"]);
    expect(await service.getRoleGrants("r")).toEqual({
      roleId: "r",
      users: ["user:a", "user:b"],
      groups: ["group:g"],
    });
    await service.setUserRoles(INTERNAL_CALLER, "r", ["user:b"]);
    expect(await service.getRoleGrants("r")).toEqual({ roleId: "r", users: ["user:b"], groups: ["group:g"] });
  });
});

describe("MappingService reads", () => {
  it("gets a role by id and by component, and reports not found apart", async () => {
    const { service } = await setup();
    const role = { roleId: "r", componentId: "c", rootFields: ["f"] };
    await service.upsertRole(INTERNAL_CALLER, role);
    expect(await service.getRole("r")).toEqual(role);
    expect(await service.getRoleByComponent("c")).toEqual(role);
    expect(await rejection(service.getRole("missing"))).toBeInstanceOf(NotFoundError);
    expect(await rejection(service.getRoleByComponent("missing"))).toBeInstanceOf(NotFoundError);
    expect(await rejection(service.getRoleGrants("missing"))).toBeInstanceOf(NotFoundError);
  });

  it("pages through roles in role_id order", async () => {
    const { service } = await setup();
    for (const id of ["r3", "r1", "r2"])
      await service.upsertRole(INTERNAL_CALLER, { roleId: id, componentId: `c-${id}`, rootFields: [] });
    const first = await service.listRoles(2, "");
    expect(first.roles.map((role) => role.roleId)).toEqual(["r1", "r2"]);
    expect(first.nextPageToken).not.toBe("");
    const second = await service.listRoles(2, first.nextPageToken);
    expect(second.roles.map((role) => role.roleId)).toEqual(["r3"]);
    expect(second.nextPageToken).toBe("");
  });

  it("lists the roles a subject holds", async () => {
    const { service } = await setup();
    await service.upsertRole(INTERNAL_CALLER, { roleId: "r1", componentId: "c1", rootFields: [] });
    await service.upsertRole(INTERNAL_CALLER, { roleId: "r2", componentId: "c2", rootFields: [] });
    await service.setGroupRoles(INTERNAL_CALLER, "r2", ["group:g"]);
    await service.setGroupRoles(INTERNAL_CALLER, "r1", ["group:g"]);
    expect(await service.listSubjectRoles("group:g")).toEqual(["r1", "r2"]);
  });
});

describe("MappingService refuses bad input, naming the field", () => {
  const cases: { name: string; call: (service: MappingService) => Promise<unknown>; field: string }[] = [
    {
      name: "role_id missing",
      call: (s) => s.upsertRole(INTERNAL_CALLER, { roleId: undefined, componentId: "c", rootFields: [] }),
      field: "role_id",
    },
    {
      name: "role_id too long",
      call: (s) =>
        s.upsertRole(INTERNAL_CALLER, { roleId: "r".repeat(256), componentId: "c", rootFields: [] }),
      field: "role_id",
    },
    {
      name: "component_id empty",
      call: (s) => s.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "", rootFields: [] }),
      field: "component_id",
    },
    {
      name: "root fields not a list",
      call: (s) => s.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: "orders" }),
      field: "graphql_root_field_names",
    },
    {
      name: "a root field not a string",
      call: (s) =>
        s.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: ["orders", 3] }),
      field: "graphql_root_field_names[1]",
    },
    {
      name: "more root fields than allowed",
      call: (s) =>
        s.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: ["a", "b", "c", "d"] }),
      field: "graphql_root_field_names",
    },
    {
      name: "a user without prefix",
      call: (s) => s.setUserRoles(INTERNAL_CALLER, "r", ["alice"]),
      field: "users[0]",
    },
    {
      name: "a group given as a user",
      call: (s) => s.setUserRoles(INTERNAL_CALLER, "r", ["user:a", "group:g"]),
      field: "users[1]",
    },
    {
      name: "a user given as a group",
      call: (s) => s.setGroupRoles(INTERNAL_CALLER, "r", ["user:a"]),
      field: "groups[0]",
    },
    {
      name: "too many users",
      call: (s) => s.setUserRoles(INTERNAL_CALLER, "r", ["user:a", "user:b", "user:c", "user:d"]),
      field: "users",
    },
    {
      name: "duplicate groups",
      call: (s) => s.setGroupRoles(INTERNAL_CALLER, "r", ["group:g", "group:g"]),
      field: "groups[1]",
    },
    { name: "role_id of a set call", call: (s) => s.setGroupRoles(INTERNAL_CALLER, 7, []), field: "role_id" },
    { name: "role_id of a delete", call: (s) => s.deleteRole(INTERNAL_CALLER, ""), field: "role_id" },
    { name: "page size too large", call: (s) => s.listRoles(3, ""), field: "page_size" },
    { name: "page size not an integer", call: (s) => s.listRoles(1.5, ""), field: "page_size" },
    { name: "page token forged", call: (s) => s.listRoles(1, "bm90IGEgdG9rZW4"), field: "page_token" },
    { name: "subject without a kind", call: (s) => s.listSubjectRoles("alice"), field: "subject" },
    // Hasura's superuser role is never written or granted, whatever else the call carries.
    {
      name: "admin upserted",
      call: (s) =>
        s.upsertRole(INTERNAL_CALLER, { roleId: "admin", componentId: "c", rootFields: ["orders"] }),
      field: "role_id",
    },
    {
      name: "admin upserted with a bad component too: role_id named first",
      call: (s) => s.upsertRole(INTERNAL_CALLER, { roleId: "admin", componentId: "", rootFields: [] }),
      field: "role_id",
    },
    {
      name: "admin granted to users",
      call: (s) => s.setUserRoles(INTERNAL_CALLER, "admin", ["user:a"]),
      field: "role_id",
    },
    {
      name: "admin granted to groups",
      call: (s) => s.setGroupRoles(INTERNAL_CALLER, "admin", ["group:g"]),
      field: "role_id",
    },
    {
      name: "admin emptied of users",
      call: (s) => s.setUserRoles(INTERNAL_CALLER, "admin", []),
      field: "role_id",
    },
  ];

  it.each(cases)("$name → $field", async ({ call, field }) => {
    const { service, store } = await setup();
    const loadsBefore = store.loads;
    const error = await rejection(call(service));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
    expect((error as Error).message.startsWith(`${field}: `)).toBe(true);
    expect(store.loads).toBe(loadsBefore);
  });
});

describe("MappingService store failures", () => {
  it("passes conflicts on and leaves the snapshot unchanged", async () => {
    const { service, sync } = await setup();
    await service.upsertRole(INTERNAL_CALLER, { roleId: "r1", componentId: "c1", rootFields: ["orders"] });
    const clash = await rejection(
      service.upsertRole(INTERNAL_CALLER, { roleId: "r1", componentId: "c2", rootFields: ["secrets"] }),
    );
    expect(clash).toBeInstanceOf(ConflictError);
    expect((clash as ConflictError).kind).toBe("role_id");
    const taken = await rejection(
      service.upsertRole(INTERNAL_CALLER, { roleId: "r2", componentId: "c1", rootFields: ["secrets"] }),
    );
    expect((taken as ConflictError).kind).toBe("component_id");
    expect(sync.fresh().rolesForField("secrets").size).toBe(0);
    expect(sync.fresh().role("r1")?.componentId).toBe("c1");
  });

  it("refuses grants on a missing role without touching the snapshot", async () => {
    const { service, sync } = await setup();
    expect(await rejection(service.setUserRoles(INTERNAL_CALLER, "missing", ["user:a"]))).toBeInstanceOf(
      NotFoundError,
    );
    expect(sync.fresh().rolesOfSubject("user:a").size).toBe(0);
    expect(await rejection(service.deleteRole(INTERNAL_CALLER, "missing"))).toBeInstanceOf(NotFoundError);
  });

  it("reports an unreachable store as UnavailableError and applies nothing", async () => {
    const { service, store, sync } = await setup();
    store.down = true;
    expect(
      await rejection(
        service.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "c", rootFields: ["orders"] }),
      ),
    ).toBeInstanceOf(UnavailableError);
    expect(sync.fresh().rolesForField("orders").size).toBe(0);
  });
});

describe("MappingService and reserved role ids", () => {
  const reserved = reservedRoleIds(["anonymous"]);

  it.each([
    {
      name: "admin",
      roleId: "admin",
      why: /"admin" is a reserved role id: it is Hasura's admin role, which bypasses every permission/,
    },
    { name: "a RESERVED_ROLE_IDS entry", roleId: "anonymous", why: /"anonymous" .*RESERVED_ROLE_IDS/ },
  ])("refuses $name in every write, saying why, and stores nothing", async ({ roleId, why }) => {
    const { service, store, sync } = await setup(undefined, reserved);
    const writes = [
      service.upsertRole(INTERNAL_CALLER, { roleId, componentId: "c", rootFields: ["orders"] }),
      service.setUserRoles(INTERNAL_CALLER, roleId, ["user:a"]),
      service.setGroupRoles(INTERNAL_CALLER, roleId, ["group:g"]),
    ];
    for (const write of writes) {
      const error = await rejection(write);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe("role_id");
      expect((error as Error).message).toMatch(why);
    }
    expect(await store.getRole(roleId)).toBeUndefined();
    expect(sync.fresh().rolesForField("orders").size).toBe(0);
  });

  it("compares exactly, as Hasura does: Admin and ADMIN are ordinary roles", async () => {
    const { service, decideFor } = await setup(undefined, reserved);
    for (const roleId of ["Admin", "ADMIN", "admin ", "Anonymous"]) {
      await service.upsertRole(INTERNAL_CALLER, {
        roleId,
        componentId: `c-${roleId}`,
        rootFields: [`f_${roleId}`],
      });
      await service.setUserRoles(INTERNAL_CALLER, roleId, ["user:a"]);
      expect(decideFor("user:a", [], `f_${roleId}`)).toMatchObject({ allowed: true, role: roleId });
    }
  });

  it("reads and deletes a reserved role written outside the API: deleting is how it is cleaned up", async () => {
    const { service, store, sync } = await setup();
    await store.upsertRole({ roleId: "admin", componentId: "c-admin", rootFields: ["orders"] });
    await store.setUserRoles("admin", ["user:mallory"]);
    await sync.reload();
    expect(sync.stats().reservedRowsIgnored).toBe(2);
    expect(await service.getRole("admin")).toMatchObject({ roleId: "admin" });
    expect(await service.getRoleGrants("admin")).toMatchObject({ users: ["user:mallory"] });
    await service.deleteRole(INTERNAL_CALLER, "admin");
    expect(await store.getRole("admin")).toBeUndefined();
    await sync.reload();
    expect(sync.stats().reservedRowsIgnored).toBe(0);
  });
});
