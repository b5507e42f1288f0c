import { getIntrospectionQuery } from "graphql";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { analyzeOperation } from "../../src/core/operation.js";
import { groupSubject, userSubject } from "../../src/core/subjects.js";

/** Where the reference flow finds Hasura and the identity provider. */
export interface OldWayOptions {
  /** The Hasura (stand-in) GraphQL endpoint. */
  readonly graphqlUrl: string;
  readonly adminSecret: string;
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  /** Hasura's root field prefix of the mapping tables (`rolemapping_`). */
  readonly prefix: string;
}

/** The reference decision: a role, or why there is none. */
export type OldWayAnswer = { role: string; user: string } | { denied: string };

const INTROSPECTION = getIntrospectionQuery();

/**
 * The previous service's decision flow, as the reference the sidecar replaces: per request it verifies the
 * token, fetches the schema by introspection (its GraphQL client did so for every session), then asks Hasura
 * for the roles of the user and its groups and for the roles of the operation's root fields — nothing cached.
 * Root fields are collected like the sidecar does (fragments followed), so both make the same decisions and
 * only the cost differs.
 */
export function createOldWayDecider(options: OldWayOptions): (body: unknown) => Promise<OldWayAnswer> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const p = options.prefix;
  const { rolesOfSubjects, rolesOfFields } = oldWayQueries(p);
  const graphql = (query: string, variables?: Record<string, unknown>) =>
    postGraphQL(options.graphqlUrl, options.adminSecret, query, variables);

  return async (body) => {
    const { headers, request } = body as {
      headers: Record<string, string>;
      request: { query: string; operationName?: string };
    };
    const authorization = headers.Authorization ?? headers.authorization ?? "";
    const [scheme, token] = authorization.split(" ");
    if (scheme !== "Bearer" || !token) return { denied: "token_missing" };
    const { payload } = await jwtVerify(token, keys, { issuer: options.issuer, audience: options.audience });
    const user = userSubject(String(payload.unique_name));
    const groups = ((payload.groups as string[] | undefined) ?? []).map(groupSubject);

    await graphql(INTROSPECTION);
    const operation = analyzeOperation(request.query, request.operationName);
    if (operation.type !== "query") return { denied: "mutation" };
    const held = await graphql(rolesOfSubjects, { user, groups });
    const roleSet = new Set<string>(
      [
        ...(held[`${p}user_roles`] as { role_id: string }[]),
        ...(held[`${p}group_roles`] as { role_id: string }[]),
      ].map((row) => row.role_id),
    );
    if (roleSet.size === 0) return { denied: "no_roles" };
    const fields = operation.rootFields.filter((field) => field !== "__typename");
    const mapped = (await graphql(rolesOfFields, { fields }))[`${p}role_graphql_root_field_names`] as {
      graphql_root_field_name: string;
      role_id: string;
    }[];
    const fieldsOfRole = new Map<string, Set<string>>();
    for (const row of mapped) {
      const set = fieldsOfRole.get(row.role_id) ?? new Set<string>();
      set.add(row.graphql_root_field_name);
      fieldsOfRole.set(row.role_id, set);
    }
    for (const [role, covered] of fieldsOfRole) {
      if (roleSet.has(role) && fields.every((field) => covered.has(field))) return { role, user };
    }
    return { denied: "no_role_for_fields" };
  };
}

/** The two queries of the old flow, for Hasura's root field prefix `p`. */
export function oldWayQueries(p: string): { rolesOfSubjects: string; rolesOfFields: string } {
  return {
    rolesOfSubjects:
      `query RolesOf($user: String!, $groups: [String!]) {\n` +
      `  ${p}user_roles(where: {user: {_eq: $user}}) { role_id }\n` +
      `  ${p}group_roles(where: {group: {_in: $groups}}) { role_id }\n}`,
    rolesOfFields:
      `query RolesOfFields($fields: [String!]) {\n` +
      `  ${p}role_graphql_root_field_names(where: {graphql_root_field_name: {_in: $fields}}) {\n` +
      `    graphql_root_field_name role_id\n  }\n}`,
  };
}

/** One admin GraphQL request to Hasura; its `data`, or an error when there is none. */
export async function postGraphQL(
  url: string,
  adminSecret: string,
  query: string,
  variables?: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "x-hasura-admin-secret": adminSecret },
    body: JSON.stringify({ query, variables }),
  });
  const answer = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (!response.ok || !answer.data) throw new Error(`Hasura answered ${response.status}`);
  return answer.data;
}

/** Mean latency (ms) of each of the old flow's three Hasura requests, sent one at a time `samples` times. */
export async function timeOldWayRequests(
  url: string,
  adminSecret: string,
  sample: { user: string; groups: readonly string[]; fields: readonly string[] },
  samples: number,
): Promise<{ introspectionMs: number; rolesOfSubjectsMs: number; rolesOfFieldsMs: number }> {
  const { rolesOfSubjects, rolesOfFields } = oldWayQueries("rolemapping_");
  const time = async (query: string, variables?: Record<string, unknown>) => {
    const started = performance.now();
    for (let i = 0; i < samples; i++) await postGraphQL(url, adminSecret, query, variables);
    return Math.round(((performance.now() - started) / samples) * 100) / 100;
  };
  return {
    introspectionMs: await time(INTROSPECTION),
    rolesOfSubjectsMs: await time(rolesOfSubjects, { user: sample.user, groups: sample.groups }),
    rolesOfFieldsMs: await time(rolesOfFields, { fields: sample.fields }),
  };
}
