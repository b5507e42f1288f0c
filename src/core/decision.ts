import type { Operation } from "./operation.js";
import { combinedRoleName, smallestCover, type CombineOptions } from "./role-cover.js";
import type { Snapshot } from "./snapshot.js";

/** Why a decision came out as it did: a stable code for logs, metrics and ExplainDecision. */
export type DecisionReason =
  | "allowed"
  | "no_roles"
  | "mutation"
  | "introspection"
  | "no_role_for_fields"
  | "role_not_held"
  | "role_not_allowed_for_fields"
  | "role_required"
  | "reserved_role"
  // Set by the authorizer: the combined role decided on could not be made to exist in time.
  | "combined_role_unavailable";

/** What the decision rules need: the caller's roles and what it wants to run. */
export interface DecisionInput {
  /** The roles of the user united with those of its groups. */
  readonly heldRoles: ReadonlySet<string>;
  /** The operations of the request (one, or a batch); null for a websocket `connection_init`. */
  readonly operations: readonly Operation[] | null;
  /** The role asked for in `X-Hasura-Role`, if any. */
  readonly requestedRole: string | undefined;
  readonly allowIntrospection: boolean;
  /** True when the caller's subjects hold a reserved role in the store (never among `heldRoles`). */
  readonly holdsReservedRole?: boolean;
  /** With COMBINED_ROLES=hasura: when no held role fits alone, answer the inherited role of a covering set. */
  readonly combine?: CombineOptions | undefined;
}

/** The outcome of the decision rules. */
export interface Decision {
  readonly allowed: boolean;
  /** The role granted, when allowed. */
  readonly role: string | undefined;
  readonly reason: DecisionReason;
  /** The root fields that needed a role (meta fields left out), across the batch. */
  readonly rootFields: readonly string[];
  /** Set when `role` is a combined role: its parent roles, sorted. */
  readonly parents?: readonly string[];
}

const TYPENAME = "__typename";
const INTROSPECTION_FIELDS: ReadonlySet<string> = new Set(["__schema", "__type"]);

/**
 * Applies the decision rules (docs/design.md, "Decision rules"): a reserved role (Hasura's admin) asked for →
 * deny; no roles → deny; mutations → deny; the role must be mapped to every root field of every operation in the
 * batch and held by the caller; a requested role must satisfy both.
 */
export function decide(input: DecisionInput, snapshot: Snapshot): Decision {
  const { heldRoles, requestedRole } = input;
  // Checked first, whatever else the request holds: asking for a reserved role is worth its own reason.
  if (requestedRole !== undefined && snapshot.isReserved(requestedRole)) {
    return deny("reserved_role", fieldsNeedingRole(input.operations));
  }
  if (heldRoles.size === 0) return deny(input.holdsReservedRole ? "reserved_role" : "no_roles", []);
  if (input.operations === null) {
    return decideWithoutRequest(heldRoles, requestedRole, input.combine, snapshot);
  }

  const fields = new Set<string>();
  for (const operation of input.operations) {
    if (operation.type === "mutation") return deny("mutation", operation.rootFields);
    for (const field of operation.rootFields) {
      if (field === TYPENAME) continue;
      if (INTROSPECTION_FIELDS.has(field)) {
        if (!input.allowIntrospection) return deny("introspection", [field]);
        continue;
      }
      fields.add(field);
    }
  }
  const rootFields = [...fields];
  if (requestedRole !== undefined) {
    if (!heldRoles.has(requestedRole)) return deny("role_not_held", rootFields);
    const fits = rootFields.every((field) => snapshot.rolesForField(field).has(requestedRole));
    return fits ? allow(requestedRole, rootFields) : deny("role_not_allowed_for_fields", rootFields);
  }
  const role = firstFittingRole(heldRoles, rootFields, snapshot);
  if (role !== undefined) return allow(role, rootFields);
  // Only without X-Hasura-Role: a caller who names a role gets exactly that role or nothing.
  const parents = input.combine && smallestCover(heldRoles, rootFields, snapshot, input.combine.maxParents);
  if (!parents || !input.combine) return deny("no_role_for_fields", rootFields);
  return combined(input.combine, parents, rootFields);
}

/** Every role mapped to all of `rootFields`, sorted; empty when there are no fields (then any held role fits). */
export function candidateRoles(rootFields: readonly string[], snapshot: Snapshot): string[] {
  const [first, ...rest] = rootFields;
  if (first === undefined) return [];
  const result: string[] = [];
  for (const role of snapshot.rolesForField(first)) {
    if (rest.every((field) => snapshot.rolesForField(field).has(role))) result.push(role);
  }
  return result.sort();
}

// The root fields of every operation, meta fields left out: what a refused request was after, for the log.
function fieldsNeedingRole(operations: readonly Operation[] | null): string[] {
  const fields = new Set<string>();
  for (const operation of operations ?? []) {
    for (const field of operation.rootFields) {
      if (field !== TYPENAME && !INTROSPECTION_FIELDS.has(field)) fields.add(field);
    }
  }
  return [...fields];
}

// Websocket connection_init: there is no query yet, so the role chosen here serves the whole connection.
// With combined roles, a caller holding several gets the combined role of all that map a root field (within
// the limit): a role mapping none adds no permission, would only multiply the distinct combinations, and as a
// parent without permissions Hasura refuses it.
function decideWithoutRequest(
  heldRoles: ReadonlySet<string>,
  requestedRole: string | undefined,
  combine: CombineOptions | undefined,
  snapshot: Snapshot,
): Decision {
  if (requestedRole !== undefined) {
    return heldRoles.has(requestedRole) ? allow(requestedRole, []) : deny("role_not_held", []);
  }
  if (heldRoles.size === 1) return allow([...heldRoles][0] as string, []);
  if (!combine) return deny("role_required", []);
  const mapping = [...heldRoles].filter((role) => (snapshot.role(role)?.rootFields.length ?? 0) > 0);
  if (mapping.length === 1) return allow(mapping[0] as string, []);
  if (mapping.length === 0 || mapping.length > combine.maxParents) return deny("role_required", []);
  return combined(combine, mapping.sort(), []);
}

// The smallest fitting role id wins, so the same caller and query always get the same role.
function firstFittingRole(
  heldRoles: ReadonlySet<string>,
  rootFields: readonly string[],
  snapshot: Snapshot,
): string | undefined {
  const [first] = rootFields;
  // Walk the smaller of the two sets: held roles, or the roles mapped to the first field.
  const pool = first === undefined ? heldRoles : smaller(heldRoles, snapshot.rolesForField(first));
  let best: string | undefined;
  for (const role of pool) {
    if (!heldRoles.has(role)) continue;
    if (best !== undefined && role >= best) continue;
    if (rootFields.every((field) => snapshot.rolesForField(field).has(role))) best = role;
  }
  return best;
}

function smaller(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  return a.size <= b.size ? a : b;
}

function allow(role: string, rootFields: readonly string[]): Decision {
  return { allowed: true, role, reason: "allowed", rootFields };
}

function combined(
  options: CombineOptions,
  parents: readonly string[],
  rootFields: readonly string[],
): Decision {
  const role = combinedRoleName(options.prefix, parents);
  return { allowed: true, role, reason: "allowed", rootFields, parents };
}

function deny(reason: DecisionReason, rootFields: readonly string[]): Decision {
  return { allowed: false, role: undefined, reason, rootFields };
}
