import type { RelationshipInfo, TrackedTable } from "./catalog.js";
import { hasuraNames } from "../../../src/store/hasura-names.js";

/**
 * The mapping tables, the version table, the change journal, the checksum view and the combined-role ledger of
 * `schema`, tracked under
 * Hasura's names (deploy/hasura/ tracks the same).
 */
export function trackedMappingTables(schema: string): TrackedTable[] {
  const names = hasuraNames(schema);
  return [
    { schema, table: "roles", name: names.roles },
    { schema, table: "role_graphql_root_field_names", name: names.rootFieldNames },
    { schema, table: "user_roles", name: names.userRoles },
    { schema, table: "group_roles", name: names.groupRoles },
    { schema, table: "group_pins", name: names.groupPins },
    { schema, table: "rolemapping_version", name: names.version },
    { schema, table: "rolemapping_changes", name: names.changes },
    { schema, table: "rolemapping_checksum", name: names.checksum },
    { schema, table: "rolemapping_combined_roles", name: names.combinedRoles },
    { schema, table: "rolemapping_combined_sweep", name: names.combinedSweep },
  ];
}

/**
 * The relationships the deployment's metadata defines on the mapping tables (the names Hasura suggests for
 * the foreign keys): roles → its root field names, user_roles and group_roles; each of those → its role.
 */
export function mappingRelationships(schema: string): Map<string, RelationshipInfo[]> {
  const n = hasuraNames(schema);
  const byRole = [["role_id", "role_id"]] as const;
  const toRole: RelationshipInfo = { name: "role", kind: "object", remoteTable: n.roles, mapping: byRole };
  return new Map<string, RelationshipInfo[]>([
    [
      n.roles,
      [
        {
          name: "role_graphql_root_field_names",
          kind: "array",
          remoteTable: n.rootFieldNames,
          mapping: byRole,
        },
        { name: "user_roles", kind: "array", remoteTable: n.userRoles, mapping: byRole },
        { name: "group_roles", kind: "array", remoteTable: n.groupRoles, mapping: byRole },
      ],
    ],
    [n.rootFieldNames, [toRole]],
    [n.userRoles, [toRole]],
    [n.groupRoles, [toRole]],
  ]);
}
