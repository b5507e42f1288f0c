import type { MappingData } from "../../../src/core/mapping.js";
import type { MappingService } from "../../../src/core/mapping-service.js";
import { INTERNAL_CALLER } from "../../../src/core/write-audit.js";

/** Roles the hardening suites map, beside the development sample (sales_analysts for group:analysts). */
export const HARDENING_ROLES = [
  { roleId: "r_orders", componentId: "cmp:orders", rootFields: ["orders", "orders_aggregate"] },
  { roleId: "r_customers", componentId: "cmp:customers", rootFields: ["customers"] },
  { roleId: "r_both", componentId: "cmp:both", rootFields: ["orders", "customers"] },
  { roleId: "r_wide", componentId: "cmp:wide", rootFields: ["orders", "customers", "invoices", "payroll"] },
  { roleId: "r_nobody", componentId: "cmp:nobody", rootFields: ["secrets"] },
] as const;

/** Who holds what: users by their token's unique_name, groups by name. */
export const HARDENING_GRANTS = {
  users: {
    r_orders: ["user:alice_corp.com", "user:carol_corp.com"],
    r_both: ["user:carol_corp.com"],
    r_wide: ["user:dave_corp.com"],
  },
  groups: { r_customers: ["group:analysts"], r_wide: ["group:finance"] },
} as const;

/** Writes the hardening mapping through the service, as the provisioner would. */
export async function seedHardeningMapping(service: MappingService): Promise<void> {
  for (const role of HARDENING_ROLES)
    await service.upsertRole(INTERNAL_CALLER, { ...role, rootFields: [...role.rootFields] });
  for (const [roleId, users] of Object.entries(HARDENING_GRANTS.users))
    await service.setUserRoles(INTERNAL_CALLER, roleId, [...users]);
  for (const [roleId, groups] of Object.entries(HARDENING_GRANTS.groups))
    await service.setGroupRoles(INTERNAL_CALLER, roleId, [...groups]);
}

/** The callers of the suites: a token's unique_name and groups claim. */
export const CALLERS = [
  { user: "alice@corp.com", groups: ["analysts"] },
  { user: "bob@corp.com", groups: [] },
  { user: "carol@corp.com", groups: ["analysts", "finance"] },
  { user: "dave@corp.com", groups: ["nobody-group"] },
  { user: "mallory@evil.example", groups: ["Analysts", "group:finance"] },
] as const;

/**
 * Hasura's admin role as rows written outside the API (SQL, Hasura's console) could hold it: mapped to every
 * field and granted to most callers. The API refuses to write it; the webhook must never answer it.
 */
export function adminRowsOutsideApi(fields: readonly string[]): MappingData {
  return {
    roles: [{ roleId: "admin", componentId: "cmp:admin", rootFields: [...fields] }],
    userGrants: [
      { subject: "user:alice_corp.com", roleId: "admin" },
      { subject: "user:bob_corp.com", roleId: "admin" },
    ],
    groupGrants: [
      { subject: "group:finance", roleId: "admin" },
      { subject: "group:nobody-group", roleId: "admin" },
    ],
  };
}
