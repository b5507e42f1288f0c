import fc from "fast-check";
import {
  COMPONENT_IDS,
  fieldValue,
  idFrom,
  nastyString,
  ROLE_IDS,
  subjectList,
  wrongType,
} from "./api-values.js";

/** One REST call as generated: method, path, body (JSON text or raw), credentials. */
export interface RestCall {
  readonly method: string;
  readonly path: string;
  readonly body: string | undefined;
  readonly auth: Record<string, string>;
  /** What a successful call must have stored, checked by reading it back. */
  readonly expect?: { kind: "role" | "users" | "groups"; request: Record<string, unknown> };
}

/**
 * REST calls into every route of the API's table, mostly with credentials `Bearer apiToken`: right shapes, wrong
 * types, junk.
 */
export function restCallArbitrary(apiToken: string): fc.Arbitrary<RestCall> {
  const auth = { authorization: `Bearer ${apiToken}` };
  // Ids percent-encoded byte by byte (a lone surrogate as U+FFFD's bytes), or raw malformed escapes.
  const encodedId = (pool: readonly string[]) =>
    fc.oneof(
      {
        weight: 8,
        arbitrary: idFrom(pool).map(percentEncoded),
      },
      { weight: 1, arbitrary: fc.constantFrom("%", "%zz", "%E0%A4%A", "%ff", "a%00b") },
    );
  const json = (value: unknown) => JSON.stringify(value);

  const upsert = fc
    .record({
      role_id: fieldValue(idFrom(ROLE_IDS)),
      component_id: fieldValue(idFrom(COMPONENT_IDS)),
      graphql_root_field_names: fieldValue(
        fc.array(idFrom(["orders", "customers", "invoices"]), { maxLength: 4 }),
      ),
    })
    .map((request): RestCall => ({
      method: "PUT",
      path: "/v1/roles",
      body: json(request),
      auth,
      expect: { kind: "role", request },
    }));
  const setUsers = fc
    .record({ role_id: fieldValue(idFrom(ROLE_IDS)), users: fieldValue(subjectList("user:")) })
    .map((request): RestCall => ({
      method: "PUT",
      path: "/v1/user_roles",
      body: json(request),
      auth,
      expect: { kind: "users", request },
    }));
  const setGroups = fc
    .record({ role_id: fieldValue(idFrom(ROLE_IDS)), groups: fieldValue(subjectList("group:")) })
    .map((request): RestCall => ({
      method: "PUT",
      path: "/v1/group_roles",
      body: json(request),
      auth,
      expect: { kind: "groups", request },
    }));
  const reads = fc.oneof(
    encodedId(ROLE_IDS).map((id): RestCall => ({
      method: "GET",
      path: `/v1/roles/${id}`,
      body: undefined,
      auth,
    })),
    encodedId(COMPONENT_IDS).map((id): RestCall => ({
      method: "GET",
      path: `/v1/roles/component_id/${id}`,
      body: undefined,
      auth,
    })),
    encodedId(ROLE_IDS).map((id): RestCall => ({
      method: "DELETE",
      path: `/v1/roles/${id}`,
      body: undefined,
      auth,
    })),
    encodedId(ROLE_IDS).map((id): RestCall => ({
      method: "GET",
      path: `/v1/role_grants/${id}`,
      body: undefined,
      auth,
    })),
    encodedId(["user:a", "group:b", "alice", "user:"]).map((id): RestCall => ({
      method: "GET",
      path: `/v1/subject_roles/${id}`,
      body: undefined,
      auth,
    })),
    fc
      .tuple(fc.oneof(fc.integer({ min: -3, max: 1_100 }).map(String), nastyString), nastyString)
      .map(([size, token]): RestCall => ({
        method: "GET",
        path: `/v1/roles?page_size=${percentEncoded(size)}&page_token=${percentEncoded(token)}`,
        body: undefined,
        auth,
      })),
  );
  // ExplainDecision changes nothing, whatever it is asked.
  const explain = fc
    .record({
      user: fieldValue(idFrom(["user:a", "alice"])),
      groups: fieldValue(subjectList("group:")),
      query: fieldValue(
        fc.oneof(fc.constantFrom("{ orders { id } }", "mutation { x }", "{", ""), nastyString),
      ),
      requested_role: fieldValue(idFrom(ROLE_IDS)),
    })
    .map((request): RestCall => ({
      method: "POST",
      path: "/v1/explain_decision",
      body: json(request),
      auth,
    }));
  // Bodies that are not what any route expects, and calls without valid credentials.
  const junk = fc
    .tuple(
      fc.constantFrom("/v1/roles", "/v1/user_roles", "/v1/group_roles", "/v1/explain_decision"),
      fc.oneof(
        wrongType.map(json),
        fc.jsonValue().map((value) => json(value) ?? "null"),
        fc.string({ maxLength: 40 }),
        nastyString,
      ),
    )
    .map(([path, body]): RestCall => ({
      method: path.endsWith("decision") ? "POST" : "PUT",
      path,
      body,
      auth,
    }));
  const unauthenticated = fc
    .tuple(
      fc.oneof(upsert, setUsers, setGroups, reads, explain),
      fc.constantFrom<Record<string, string>>(
        {},
        { authorization: "Bearer wrong-token-0123456789abc" },
        { authorization: apiToken },
        { authorization: `Basic ${apiToken}` },
        { authorization: `Bearer ${apiToken}x` },
      ),
    )
    .map(([call, auth]): RestCall => ({ ...call, auth, expect: undefined }));
  return fc.oneof(
    { weight: 3, arbitrary: upsert },
    { weight: 3, arbitrary: setUsers },
    { weight: 2, arbitrary: setGroups },
    { weight: 2, arbitrary: reads },
    { weight: 1, arbitrary: explain },
    { weight: 1, arbitrary: junk },
    { weight: 1, arbitrary: unauthenticated },
  );
}

// Every UTF-8 byte percent-encoded; unlike encodeURIComponent, a lone surrogate does not throw (it is sent as
// U+FFFD, as any client's UTF-8 encoder would send it).
function percentEncoded(text: string): string {
  return [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).padStart(2, "0")}`).join("");
}
