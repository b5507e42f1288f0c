import { describe, expect, it } from "vitest";
import type { AuditedWrite, Caller } from "../../src/core/write-audit.js";
import { serviceOverFakeStore } from "./mapping-service-fixture.js";

// Each write of the mapping service is reported once, under the caller it was given, with the counts the store
// answered from the write's own transaction.

async function setup() {
  const written: AuditedWrite[] = [];
  const { store, service } = await serviceOverFakeStore({
    audit: { written: (write) => written.push(write) },
  });
  return { store, service, written };
}

const grpc = (name: string): Caller => ({ transport: "grpc", name });
const rest = (name: string): Caller => ({ transport: "rest", name });
const withoutTime = (writes: AuditedWrite[]) => writes.map(({ ms: _ms, ...write }) => write);

describe("the mapping service's write audit", () => {
  it("reports every write with its caller and the store's counts, and reads nothing to do so", async () => {
    const { store, service, written } = await setup();
    const reads = { getRole: 0, getRoleGrants: 0 };
    const getRole = store.getRole.bind(store);
    const getRoleGrants = store.getRoleGrants.bind(store);
    store.getRole = (id) => (reads.getRole++, getRole(id));
    store.getRoleGrants = (id) => (reads.getRoleGrants++, getRoleGrants(id));

    await service.upsertRole(grpc("ci"), { roleId: "r", componentId: "c", rootFields: ["a", "b"] });
    await service.upsertRole(rest("ops"), { roleId: "r", componentId: "c", rootFields: ["b"] });
    await service.setUserRoles(grpc("ci"), "r", ["user:a", "user:b"]);
    await service.setUserRoles(grpc("ci"), "r", ["user:b", "user:c", "user:d"]);
    await service.setGroupRoles(rest("ops"), "r", ["group:g"]);
    await service.deleteRole(grpc("ci"), "r");

    expect(withoutTime(written)).toEqual([
      {
        caller: grpc("ci"),
        operation: "upsert_role",
        roleId: "r",
        before: { root_fields: 0 },
        result: { ok: true, after: { root_fields: 2 }, detail: { component_id: "c", created: true } },
      },
      {
        caller: rest("ops"),
        operation: "upsert_role",
        roleId: "r",
        before: { root_fields: 2 },
        result: { ok: true, after: { root_fields: 1 }, detail: { component_id: "c", created: false } },
      },
      {
        caller: grpc("ci"),
        operation: "set_user_roles",
        roleId: "r",
        before: { users: 0 },
        result: { ok: true, after: { users: 2 }, detail: { added: 2, removed: 0 } },
      },
      {
        caller: grpc("ci"),
        operation: "set_user_roles",
        roleId: "r",
        before: { users: 2 },
        result: { ok: true, after: { users: 3 }, detail: { added: 2, removed: 1 } },
      },
      {
        caller: rest("ops"),
        operation: "set_group_roles",
        roleId: "r",
        before: { groups: 0 },
        result: { ok: true, after: { groups: 1 }, detail: { added: 1, removed: 0 } },
      },
      {
        caller: grpc("ci"),
        operation: "delete_role",
        roleId: "r",
        before: { users: 3, groups: 1 },
        result: { ok: true, after: { users: 0, groups: 0 }, detail: { deleted: true } },
      },
    ]);
    expect(reads).toEqual({ getRole: 0, getRoleGrants: 0 });
    expect(written.every((write) => typeof write.ms === "number" && write.ms >= 0)).toBe(true);
  });

  it("keeps each of two overlapping writes under its own caller", async () => {
    const { service, written } = await setup();
    await service.upsertRole(grpc("setup"), { roleId: "r", componentId: "c", rootFields: [] });
    await Promise.all([
      service.setUserRoles(grpc("first"), "r", ["user:a"]),
      service.setGroupRoles(rest("second"), "r", ["group:g"]),
      service.setUserRoles(rest("third"), "r", ["user:b"]),
    ]);
    const callers = written.slice(1).map((write) => [write.caller.name, write.operation]);
    expect(callers.sort()).toEqual([
      ["first", "set_user_roles"],
      ["second", "set_group_roles"],
      ["third", "set_user_roles"],
    ]);
  });

  it("reports a refused write with what stands: the counts after a clash, 0 for a missing role, null when the store is away", async () => {
    const { store, service, written } = await setup();
    await service.upsertRole(grpc("ci"), { roleId: "r", componentId: "c", rootFields: ["a", "b"] });
    const failed = (promise: Promise<unknown>) => promise.catch((error: unknown) => error);

    await failed(service.upsertRole(grpc("ci"), { roleId: "r", componentId: "other", rootFields: [] }));
    await failed(service.setUserRoles(grpc("ci"), "missing", ["user:a"]));
    store.down = true;
    await failed(service.setGroupRoles(grpc("ci"), "r", ["group:g"]));
    await failed(service.upsertRole(grpc("ci"), { roleId: "r", componentId: "c", rootFields: [] }));
    store.down = false;

    expect(
      written.slice(1).map((write) => ({
        operation: write.operation,
        before: write.before,
        code: write.result.ok ? "ok" : (write.result.error as { code?: string }).code,
      })),
    ).toEqual([
      { operation: "upsert_role", before: { root_fields: 2 }, code: "conflict" },
      { operation: "set_user_roles", before: { users: 0 }, code: "not_found" },
      { operation: "set_group_roles", before: null, code: "unavailable" },
      { operation: "upsert_role", before: null, code: "unavailable" },
    ]);
  });

  it("reports nothing for a call refused before the store is asked", async () => {
    const { service, written } = await setup();
    await service.setUserRoles(grpc("ci"), "", ["user:a"]).catch(() => undefined);
    await service.setUserRoles(grpc("ci"), "admin", ["user:a"]).catch(() => undefined);
    expect(written).toEqual([]);
  });
});
