import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  COMPONENT_IDS,
  fieldValue,
  idFrom,
  nastyString,
  ROLE_IDS,
  subjectList,
  wrongType,
} from "./support/api-values.js";
import { send, type HttpAnswer } from "./support/http.js";
import { readMapping } from "./support/oracle.js";
import { FC_SEED, runs } from "./support/runs.js";
import { startTestSidecar, type RunningSidecar } from "./support/sidecar.js";

const API_TOKEN = "hardening-rest-token-0123456789";
const AUTH = { authorization: `Bearer ${API_TOKEN}` };

let running: RunningSidecar;
beforeAll(async () => {
  // The real embedded store (PGlite): what it refuses and what it stores is part of what is fuzzed.
  running = await startTestSidecar({ ROLEMAPPER_API_TOKENS: API_TOKEN });
});
afterAll(() => running?.stop());

/** One REST call as generated: method, path, body (JSON text or raw), credentials. */
interface RestCall {
  readonly method: string;
  readonly path: string;
  readonly body: string | undefined;
  readonly auth: Record<string, string>;
  /** What a successful call must have stored, checked by reading it back. */
  readonly expect?: { kind: "role" | "users" | "groups"; request: Record<string, unknown> };
}

// Ids percent-encoded byte by byte (a lone surrogate as U+FFFD's bytes), or raw malformed escapes.
const encodedId = (pool: readonly string[]) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: idFrom(pool).map((id) =>
        [...Buffer.from(id, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
      ),
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
    auth: AUTH,
    expect: { kind: "role", request },
  }));
const setUsers = fc
  .record({ role_id: fieldValue(idFrom(ROLE_IDS)), users: fieldValue(subjectList("user:")) })
  .map((request): RestCall => ({
    method: "PUT",
    path: "/v1/user_roles",
    body: json(request),
    auth: AUTH,
    expect: { kind: "users", request },
  }));
const setGroups = fc
  .record({ role_id: fieldValue(idFrom(ROLE_IDS)), groups: fieldValue(subjectList("group:")) })
  .map((request): RestCall => ({
    method: "PUT",
    path: "/v1/group_roles",
    body: json(request),
    auth: AUTH,
    expect: { kind: "groups", request },
  }));
const reads = fc.oneof(
  encodedId(ROLE_IDS).map((id): RestCall => ({
    method: "GET",
    path: `/v1/roles/${id}`,
    body: undefined,
    auth: AUTH,
  })),
  encodedId(COMPONENT_IDS).map((id): RestCall => ({
    method: "GET",
    path: `/v1/roles/component_id/${id}`,
    body: undefined,
    auth: AUTH,
  })),
  encodedId(ROLE_IDS).map((id): RestCall => ({
    method: "DELETE",
    path: `/v1/roles/${id}`,
    body: undefined,
    auth: AUTH,
  })),
);
// Bodies that are not what any route expects, and calls without valid credentials.
const junk = fc
  .tuple(
    fc.constantFrom("/v1/roles", "/v1/user_roles", "/v1/group_roles"),
    fc.oneof(
      wrongType.map(json),
      fc.jsonValue().map((value) => json(value) ?? "null"),
      fc.string({ maxLength: 40 }),
      nastyString,
    ),
  )
  .map(([path, body]): RestCall => ({ method: "PUT", path, body, auth: AUTH }));
const unauthenticated = fc
  .tuple(
    fc.oneof(upsert, setUsers, setGroups, reads),
    fc.constantFrom<Record<string, string>>(
      {},
      { authorization: "Bearer wrong-token-0123456789abc" },
      { authorization: API_TOKEN },
      { authorization: `Basic ${API_TOKEN}` },
      { authorization: `Bearer ${API_TOKEN}x` },
    ),
  )
  .map(([call, auth]): RestCall => ({ ...call, auth, expect: undefined }));

const callArbitrary = fc.oneof(
  { weight: 3, arbitrary: upsert },
  { weight: 3, arbitrary: setUsers },
  { weight: 2, arbitrary: setGroups },
  { weight: 2, arbitrary: reads },
  { weight: 1, arbitrary: junk },
  { weight: 1, arbitrary: unauthenticated },
);

/** The failure body the provisioner parses: a non-empty list of non-empty messages, or the 404/401 strings. */
function expectClearFailure(call: RestCall, answer: HttpAnswer): void {
  if (answer.status === 400 || answer.status === 413) {
    const errors = (answer.json as { errors?: unknown } | undefined)?.errors;
    expect(Array.isArray(errors) && errors.length > 0, answer.text).toBe(true);
    for (const message of errors as unknown[])
      expect(typeof message === "string" && message.length > 3).toBe(true);
  } else if (answer.status === 404 && call.path.endsWith("/")) {
    // An empty id leaves no route of its own: express's "Cannot GET" page, or (component_id/) the role route
    // reading "component_id" as a role id. Either way a 404, never a write.
    expect(answer.text).toMatch(/Cannot (GET|DELETE)|Role not found for role_id component_id/);
  } else if (answer.status === 404) {
    expect(typeof answer.json === "string" && answer.json.length > 0, answer.text).toBe(true);
  } else {
    expect(answer.json, answer.text).toBe("Unauthorized");
  }
}

async function checkStored(call: RestCall, answer: HttpAnswer): Promise<void> {
  if (!call.expect) return;
  const request = call.expect.request;
  const service = running.sidecar.service;
  if (call.expect.kind === "role") {
    const stored = await service.getRole(request.role_id);
    expect(stored.componentId).toBe(request.component_id);
    expect([...stored.rootFields].sort()).toEqual([...(request.graphql_root_field_names as string[])].sort());
    expect((answer.json as { role_id: unknown }).role_id).toBe(request.role_id);
  } else {
    const grants = await service.getRoleGrants(request.role_id);
    const listed = call.expect.kind === "users" ? grants.users : grants.groups;
    const sent = (call.expect.kind === "users" ? request.users : request.groups) as string[];
    expect([...listed].sort()).toEqual([...sent].sort());
  }
}

describe("REST API fuzzing: random inputs into every route", () => {
  it("answers 2xx, or a clear 400/401/404/413 leaving the store exactly as it was", async () => {
    const outcomes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(callArbitrary, async (call) => {
        const before = (await readMapping(running.sidecar.service)).fingerprint;
        const answer = await send(`${running.adminUrl}${call.path}`, call.method, call.body, call.auth);
        outcomes.set(answer.status, (outcomes.get(answer.status) ?? 0) + 1);
        expect([200, 204, 400, 401, 404, 413], `${answer.status} ${answer.text}`).toContain(answer.status);
        if (answer.status >= 400) {
          expectClearFailure(call, answer);
          expect((await readMapping(running.sidecar.service)).fingerprint).toBe(before);
        } else {
          await checkStored(call, answer);
        }
      }),
      { numRuns: runs(0.12), seed: FC_SEED },
    );
    // Both successes and each kind of refusal were reached.
    for (const status of [200, 400, 401, 404]) expect(outcomes.get(status) ?? 0).toBeGreaterThan(0);
  });
});
