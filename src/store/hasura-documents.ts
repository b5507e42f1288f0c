import type { HasuraNames } from "./hasura-names.js";

/**
 * Every GraphQL document the Hasura store sends, named for what it does. Built once per store from the table
 * names; variables carry all data, so no document is assembled per request and the server can cache its plan.
 * Each write is one document whose mutation root fields Hasura runs in one transaction, in order.
 */
export interface HasuraDocuments {
  readonly ping: string;
  readonly readChangeMarker: string;
  readonly getRole: string;
  readonly getRoleByComponent: string;
  readonly getRoleGrants: string;
  readonly listRoles: string;
  readonly listUserSubjectRoles: string;
  readonly listGroupSubjectRoles: string;
  readonly loadUserGrantsPage: string;
  readonly loadGroupGrantsPage: string;
  readonly upsertRole: string;
  readonly setUserRoles: string;
  readonly setGroupRoles: string;
  readonly setGroupRolesPinned: string;
  readonly loadGroupPinsPage: string;
  readonly pinAbsentGroups: string;
  readonly readGroupPins: string;
  readonly deleteRole: string;
  readonly readJournalMarker: string;
  readonly readChanges: string;
  readonly loadRoles: string;
  readonly readChecksum: string;
}

/** The documents for the tables named by `n`. */
export function hasuraDocuments(n: HasuraNames): HasuraDocuments {
  return { ...roleReads(n), ...writes(n), ...pinDocuments(n), ...snapshotReads(n) };
}

// A role with its root fields, as every read of roles selects it.
const ROLE_FIELDS = `role_id component_id role_graphql_root_field_names { graphql_root_field_name }`;

/** What the API reads of the roles and grants, and the pages of a full load. */
function roleReads(
  n: HasuraNames,
): Pick<
  HasuraDocuments,
  | "ping"
  | "getRole"
  | "getRoleByComponent"
  | "getRoleGrants"
  | "listRoles"
  | "listUserSubjectRoles"
  | "listGroupSubjectRoles"
  | "loadUserGrantsPage"
  | "loadGroupGrantsPage"
> {
  return {
    ping: `query Ping { __typename }`,

    getRole: `query GetRole($roleId: String!) { role: ${n.roles}_by_pk(role_id: $roleId) { ${ROLE_FIELDS} } }`,

    getRoleByComponent: `query GetRoleByComponent($componentId: String!) {
  roles: ${n.roles}(where: { component_id: { _eq: $componentId } }, limit: 1) { ${ROLE_FIELDS} }
}`,

    getRoleGrants: `query GetRoleGrants($roleId: String!) {
  role: ${n.roles}_by_pk(role_id: $roleId) { role_id user_roles { user } group_roles { group } }
}`,

    // Keyset paging: `where` is {} for the first page, else { role_id: { _gt: <last role_id> } }.
    listRoles: `query ListRoles($where: ${n.roles}_bool_exp!, $limit: Int!) {
  roles: ${n.roles}(where: $where, order_by: [{ role_id: asc }], limit: $limit) { ${ROLE_FIELDS} }
}`,

    listUserSubjectRoles: `query ListUserSubjectRoles($subject: String!) {
  grants: ${n.userRoles}(where: { user: { _eq: $subject } }) { role_id }
}`,

    listGroupSubjectRoles: `query ListGroupSubjectRoles($subject: String!) {
  grants: ${n.groupRoles}(where: { group: { _eq: $subject } }) { role_id }
}`,

    // Keyset paging over the primary key order (role_id, subject), so a page never repeats or skips a row.
    loadUserGrantsPage: `query LoadUserGrantsPage($where: ${n.userRoles}_bool_exp!, $limit: Int!) {
  grants: ${n.userRoles}(where: $where, order_by: [{ role_id: asc }, { user: asc }], limit: $limit) { subject: user role_id }
}`,

    loadGroupGrantsPage: `query LoadGroupGrantsPage($where: ${n.groupRoles}_bool_exp!, $limit: Int!) {
  grants: ${n.groupRoles}(where: $where, order_by: [{ role_id: asc }, { group: asc }], limit: $limit) { subject: group role_id }
}`,
  };
}

/** The writes: each one document, whose mutation root fields Hasura runs in one transaction, in order. */
function writes(
  n: HasuraNames,
): Pick<
  HasuraDocuments,
  "upsertRole" | "setUserRoles" | "setGroupRoles" | "setGroupRolesPinned" | "deleteRole"
> {
  return {
    // 0. Lock the role when it exists (an update setting role_id to itself), counting the root fields it maps
    //    before the write; null when it does not exist yet (the write creates it).
    // 1. Insert the role, or lock it when it exists: ON CONFLICT DO UPDATE locks the row even when `where`
    //    (same component) is false, so concurrent writes of one role queue up here. A component already held by
    //    another role fails on roles_component_id_key.
    // 2. Refuse a role bound to another component: setting component_id to null violates its NOT NULL
    //    constraint, which aborts the whole request (Hasura rolls every field back) before anything changed.
    // 3-4. Afterwards the role maps exactly the listed root fields.
    upsertRole: `mutation UpsertRole(
  $roleId: String!
  $componentId: String!
  $rootFields: [String!]!
  $rootFieldRows: [${n.rootFieldNames}_insert_input!]!
) {
  existing: update_${n.roles}_by_pk(pk_columns: { role_id: $roleId }, _set: { role_id: $roleId }) {
    rootFields: role_graphql_root_field_names_aggregate { aggregate { count } }
  }
  role: insert_${n.roles}_one(
    object: { role_id: $roleId, component_id: $componentId }
    on_conflict: {
      constraint: roles_pkey
      update_columns: [component_id]
      where: { component_id: { _eq: $componentId } }
    }
  ) { role_id }
  refuseOtherComponent: update_${n.roles}(
    where: { role_id: { _eq: $roleId }, component_id: { _neq: $componentId } }
    _set: { component_id: null }
  ) { affected_rows }
  dropUnlistedRootFields: delete_${n.rootFieldNames}(
    where: { role_id: { _eq: $roleId }, graphql_root_field_name: { _nin: $rootFields } }
  ) { affected_rows }
  addRootFields: insert_${n.rootFieldNames}(
    objects: $rootFieldRows
    on_conflict: { constraint: role_graphql_root_field_names_pkey, update_columns: [] }
  ) { affected_rows }
}`,

    setUserRoles: replaceGrants(n, "SetUserRoles", n.userRoles, "user", "user_roles_pkey"),

    setGroupRoles: replaceGrants(n, "SetGroupRoles", n.groupRoles, "group", "group_roles_pkey"),

    setGroupRolesPinned: replaceGrants(
      n,
      "SetGroupRolesPinned",
      n.groupRoles,
      "group",
      "group_roles_pkey",
      true,
    ),

    // Children first: deployments whose foreign keys lack ON DELETE CASCADE must work too.
    deleteRole: `mutation DeleteRole($roleId: String!) {
  deleteRootFields: delete_${n.rootFieldNames}(where: { role_id: { _eq: $roleId } }) { affected_rows }
  deleteUserRoles: delete_${n.userRoles}(where: { role_id: { _eq: $roleId } }) { affected_rows }
  deleteGroupRoles: delete_${n.groupRoles}(where: { role_id: { _eq: $roleId } }) { affected_rows }
  role: delete_${n.roles}_by_pk(role_id: $roleId) { role_id }
}`,
  };
}

/** The group pins, read and written only where group names are pinned. */
function pinDocuments(
  n: HasuraNames,
): Pick<HasuraDocuments, "loadGroupPinsPage" | "pinAbsentGroups" | "readGroupPins"> {
  return {
    // The pin table is read only where group names are pinned: other deployments need not track it.
    loadGroupPinsPage: `query LoadGroupPinsPage($where: ${n.groupPins}_bool_exp!, $limit: Int!) {
  pins: ${n.groupPins}(where: $where, order_by: [{ group: asc }], limit: $limit) { group object_id }
}`,

    // `update_columns: []` is ON CONFLICT DO NOTHING: a pin already stored stays, whoever wrote it.
    pinAbsentGroups: `mutation PinAbsentGroups($pins: [${n.groupPins}_insert_input!]!) {
  pin: insert_${n.groupPins}(objects: $pins, on_conflict: { constraint: group_pins_pkey, update_columns: [] }) {
    affected_rows
  }
}`,

    readGroupPins: `query ReadGroupPins($groups: [String!]!) {
  pins: ${n.groupPins}(where: { group: { _in: $groups } }) { group object_id }
}`,
  };
}

/** What the snapshot follows the store by: the change marker, the journal, the roles it lists, the checksum. */
function snapshotReads(
  n: HasuraNames,
): Pick<
  HasuraDocuments,
  "readChangeMarker" | "readJournalMarker" | "readChanges" | "loadRoles" | "readChecksum"
> {
  return {
    readChangeMarker: `query ReadChangeMarker { versions: ${n.version}(limit: 1) { version } }`,

    // The change journal (deploy/sql/003_change_journal.sql): the marker with the floor below which entries may be
    // pruned, then the entries up to that marker (a separate request, so never of a later marker than read).
    readJournalMarker: `query ReadJournalMarker { versions: ${n.version}(limit: 1) { version journal_floor } }`,

    readChanges: `query ReadChanges($since: bigint!, $upTo: bigint!, $limit: Int!) {
  changes: ${n.changes}(
    where: { version: { _gt: $since, _lte: $upTo } }
    distinct_on: [kind, id, writer]
    order_by: [{ kind: asc }, { id: asc }, { writer: asc }]
    limit: $limit
  ) { kind id writer }
}`,

    // One root field, hence one SQL statement in Hasura: the roles and their grants from one snapshot.
    loadRoles: `query LoadRoles($roleIds: [String!]!) {
  roles: ${n.roles}(where: { role_id: { _in: $roleIds } }) {
    ${ROLE_FIELDS}
    user_roles { user }
    group_roles { group }
  }
}`,

    readChecksum: `query ReadChecksum { checksums: ${n.checksum}(limit: 1) { version checksum } }`,
  };
}

// 1. Lock the role row (an update setting role_id to itself), so concurrent replacements of one role run one
//    after the other and the last one wins whole; null when the role is missing (→ NotFoundError). It counts the
//    subjects of this kind holding the role before the write.
// 2. With `pinned`: store each listed group's pin, replacing an older one (pinned_at back to its default, now).
// 3-4. Remove the unlisted subjects (their number is what was removed), add the listed ones and refresh their
//    last_update (the column default). A missing role also fails here, on the foreign key.
// 5. Read the grants as they now stand, from inside the same transaction.
function replaceGrants(
  n: HasuraNames,
  name: string,
  table: string,
  column: string,
  pkey: string,
  pinned = false,
): string {
  const pinVariable = pinned ? `, $pins: [${n.groupPins}_insert_input!]!` : "";
  const pin = pinned
    ? `
  pin: insert_${n.groupPins}(
    objects: $pins
    on_conflict: { constraint: group_pins_pkey, update_columns: [object_id, pinned_at] }
  ) {
    affected_rows
  }`
    : "";
  return `mutation ${name}($roleId: String!, $subjects: [String!]!, $rows: [${table}_insert_input!]!${pinVariable}) {
  lockRole: update_${n.roles}_by_pk(pk_columns: { role_id: $roleId }, _set: { role_id: $roleId }) {
    role_id
    before: ${column}_roles_aggregate { aggregate { count } }
  }${pin}
  dropUnlisted: delete_${table}(where: { role_id: { _eq: $roleId }, ${column}: { _nin: $subjects } }) {
    affected_rows
  }
  grant: insert_${table}(objects: $rows, on_conflict: { constraint: ${pkey}, update_columns: [last_update] }) {
    affected_rows
  }
  grants: update_${n.roles}_by_pk(pk_columns: { role_id: $roleId }, _set: { role_id: $roleId }) {
    role_id
    user_roles { user }
    group_roles { group }
  }
}`;
}
