import type { Role } from "../../src/core/mapping.js";
import { groupSubject, userSubject } from "../../src/core/subjects.js";
import { between, pick, seededRandom } from "./random.js";

/** One caller of the webhook: its identity and the GraphQL request it sends. */
export interface Caller {
  /** The token's `unique_name`. */
  readonly name: string;
  /** The token's `groups` claim. */
  readonly groups: readonly string[];
  readonly query: string;
  readonly operationName: string;
  readonly variables: Readonly<Record<string, unknown>>;
  /** The root fields the query selects (what the decision looks up). */
  readonly rootFields: readonly string[];
}

/** A mapping of output-port roles and the callers that query them. */
export interface Workload {
  readonly roles: readonly Role[];
  /** role id → `user:…` subjects holding it directly. */
  readonly userGrants: ReadonlyMap<string, readonly string[]>;
  /** role id → `group:…` subjects holding it. */
  readonly groupGrants: ReadonlyMap<string, readonly string[]>;
  readonly callers: readonly Caller[];
}

/** Sizes of a generated workload. */
export interface WorkloadSize {
  readonly roles: number;
  readonly groups: number;
  readonly users: number;
  readonly groupsPerUser: number;
}

const DOMAINS = ["sales", "finance", "marketing", "logistics", "hr", "risk", "customer", "product"];
const TABLES = ["orders", "invoices", "customers", "shipments", "payments", "events", "accounts", "items"];
const COLUMNS = ["id", "name", "amount", "created_at", "status", "region", "owner", "updated_at"];

/**
 * A realistic mapping: one role per output port, each mapped to 2–5 root fields (some fields shared by two
 * ports); groups hold 1–3 roles, users 1–2 roles directly and `groupsPerUser` groups. Each caller queries 1–4
 * root fields of one role it holds, in one of several document shapes (variables, fragments, aliases).
 */
export function buildWorkload(size: WorkloadSize, seed = 42): Workload {
  const random = seededRandom(seed);
  const roles: Role[] = [];
  for (let r = 0; r < size.roles; r++) {
    const domain = DOMAINS[r % DOMAINS.length] as string;
    const fields = new Set<string>();
    const count = between(random, 2, 5);
    for (let f = 0; f < count; f++) {
      fields.add(`${domain}_dp${r}_op_v${(f % 2) + 1}_${TABLES[f % TABLES.length]}`);
    }
    // Every tenth role also exposes a field of the previous one: a shared root field needs two roles' checks.
    const previous = roles[r - 1];
    if (r % 10 === 0 && previous) fields.add(previous.rootFields[0] as string);
    roles.push({
      roleId: `${domain}_dp${r}_role`,
      componentId: `urn:dmb:cmp:${domain}:dp${r}:op`,
      rootFields: [...fields],
    });
  }
  const groupNames = Array.from({ length: size.groups }, (_, g) => `team-${g}`);
  const groupRoles = new Map<string, Role[]>();
  const groupGrants = new Map<string, string[]>();
  for (const group of groupNames) {
    const held = pick(random, roles, between(random, 1, 3));
    groupRoles.set(group, held);
    for (const role of held) push(groupGrants, role.roleId, groupSubject(group));
  }
  const userGrants = new Map<string, string[]>();
  const callers: Caller[] = [];
  for (let u = 0; u < size.users; u++) {
    const name = `person-${u}@corp.com`;
    const direct = pick(random, roles, between(random, 1, 2));
    for (const role of direct) push(userGrants, role.roleId, userSubject(name));
    const groups = pick(random, groupNames, size.groupsPerUser);
    const held = [...direct, ...groups.flatMap((g) => groupRoles.get(g) ?? [])];
    const role = held[Math.floor(random() * held.length)] as Role;
    const fields = pick(random, role.rootFields, between(random, 1, 4));
    callers.push({ name, groups, rootFields: fields, ...document(fields, u, random) });
  }
  return { roles, userGrants, groupGrants, callers };
}

function document(
  fields: readonly string[],
  n: number,
  random: () => number,
): { query: string; operationName: string; variables: Record<string, unknown> } {
  const operationName = `Report${n}`;
  const columns = pick(random, COLUMNS, between(random, 2, 5)).join(" ");
  const variables = { limit: between(random, 10, 500), since: "2024-01-01" };
  const selection = (field: string, i: number) =>
    `${i === 0 ? "" : `f${i}: `}${field}(limit: $limit, where: {created_at: {_gte: $since}}) { ${columns} }`;
  const header = `query ${operationName}($limit: Int!, $since: timestamptz)`;
  switch (n % 4) {
    case 0:
      return { operationName, variables, query: `${header} {\n  ${fields.map(selection).join("\n  ")}\n}` };
    case 1:
      return {
        operationName,
        variables,
        query: `${header} {\n  ...Rows\n  __typename\n}\nfragment Rows on query_root {\n  ${fields.map(selection).join("\n  ")}\n}`,
      };
    case 2: {
      const [first, ...rest] = fields;
      return {
        operationName,
        variables,
        query:
          `${header} {\n  ${selection(first as string, 0)}\n  ... on query_root {\n    ` +
          `${rest.length > 0 ? rest.map((f, i) => selection(f, i + 1)).join("\n    ") : "__typename"}\n  }\n}`,
      };
    }
    default:
      return {
        operationName,
        variables,
        query:
          `fragment Cols on query_root { __typename }\n${header} {\n  ...Cols\n  ` +
          `${fields.map(selection).join("\n  ")}\n}\nquery Other { ${fields[0]} { id } }`,
      };
  }
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
