import { credentials } from "@grpc/grpc-js";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import type { Workload } from "./workload.js";

/** The API token the benchmark sidecar accepts (ROLEMAPPER_API_TOKENS). */
export const BENCH_API_TOKEN = "bench-api-token-0123456789abcdef";

/** A RoleMapping API client on 127.0.0.1:`port`, and a way to close it. */
export function grpcApi(port: number): { api: RoleMappingApi; close(): void } {
  const client = new RoleMappingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
    "grpc.max_send_message_length": 64 * 1024 * 1024,
    "grpc.max_receive_message_length": 64 * 1024 * 1024,
  });
  return { api: promiseApi(client, bearer(BENCH_API_TOKEN)), close: () => client.close() };
}

/** Writes the workload's mapping through the RoleMapping API, as a provisioner would. */
export async function seedOverGrpc(api: RoleMappingApi, workload: Workload): Promise<void> {
  for (const role of workload.roles) {
    await api.upsertRole({
      roleId: role.roleId,
      componentId: role.componentId,
      graphqlRootFieldNames: [...role.rootFields],
    });
  }
  for (const [roleId, users] of workload.userGrants) await api.setUserRoles({ roleId, users: [...users] });
  for (const [roleId, groups] of workload.groupGrants)
    await api.setGroupRoles({ roleId, groups: [...groups] });
}

/** Figures of the write scenario. */
export interface WriteFigures {
  readonly setUserRoles10kMs: number;
  readonly setUserRoles10kReplaceMs: number;
  readonly upsertRoleSequential: number;
  readonly upsertRoleTotalMs: number;
  readonly upsertRoleMeanMs: number;
}

/**
 * SetUserRoles with 10,000 users on a fresh role (all inserted), then again with half of them replaced; then
 * `upserts` sequential UpsertRole calls of new roles.
 */
export async function measureWrites(api: RoleMappingApi, upserts: number): Promise<WriteFigures> {
  await api.upsertRole({
    roleId: "bulk_role",
    componentId: "urn:bench:bulk",
    graphqlRootFieldNames: ["bulk_f"],
  });
  const users = Array.from({ length: 10_000 }, (_, i) => `user:bulk-${i}_corp.com`);
  let started = performance.now();
  const first = await api.setUserRoles({ roleId: "bulk_role", users });
  const setUserRoles10kMs = performance.now() - started;
  if (first.users.length !== 10_000) throw new Error(`SetUserRoles kept ${first.users.length} users`);
  const replaced = users.map((user, i) => (i % 2 === 0 ? user : `user:other-${i}_corp.com`));
  started = performance.now();
  await api.setUserRoles({ roleId: "bulk_role", users: replaced });
  const setUserRoles10kReplaceMs = performance.now() - started;

  started = performance.now();
  for (let i = 0; i < upserts; i++) {
    await api.upsertRole({
      roleId: `upsert_role_${i}`,
      componentId: `urn:bench:upsert:${i}`,
      graphqlRootFieldNames: [`upsert_${i}_orders`, `upsert_${i}_items`],
    });
  }
  const upsertRoleTotalMs = performance.now() - started;
  return {
    setUserRoles10kMs: Math.round(setUserRoles10kMs),
    setUserRoles10kReplaceMs: Math.round(setUserRoles10kReplaceMs),
    upsertRoleSequential: upserts,
    upsertRoleTotalMs: Math.round(upsertRoleTotalMs),
    upsertRoleMeanMs: Math.round((upsertRoleTotalMs / upserts) * 1000) / 1000,
  };
}
