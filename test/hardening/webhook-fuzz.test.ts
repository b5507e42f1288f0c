import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userSubject } from "../../src/core/subjects.js";
import { FakeStore } from "../support/fake-store.js";
import {
  documentArbitrary,
  FIELD_POOL,
  mutatedDocumentArbitrary,
  operationNameArbitrary,
  variablesArbitrary,
} from "./support/documents.js";
import { postWebhook, type HttpAnswer } from "./support/http.js";
import { adminRowsOutsideApi, CALLERS, seedHardeningMapping } from "./support/mapping.js";
import {
  ExecutionOracle,
  heldRoles,
  readMapping,
  RESERVED_ROLES,
  type MappingView,
} from "./support/oracle.js";
import { FC_SEED, fuzzTimeout, runs } from "./support/runs.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { b64, devClaims, devKeySigner, forgedToken, hmacToken, unsignedToken } from "./support/tokens.js";

// Hasura's contract allows exactly these; anything else (a crash, a 404, a 502) fails the client request.
const ALLOWED_STATUSES = new Set([200, 400, 401, 413, 500]);

interface Caller {
  readonly token: string;
  /** The subject and groups the token proves, or undefined for a token that must never be accepted. */
  readonly proves: { user: string; groups: string[] } | undefined;
}

let running: RunningSidecar;
let view: MappingView;
let callers: Caller[];
let devKid: string;
const oracle = new ExecutionOracle(FIELD_POOL);

beforeAll(async () => {
  // The store is an in-memory stand-in: decisions never read it, and the sidecar starts in a moment. It already
  // holds Hasura's admin role, mapped to every field, as rows written outside the API could leave it.
  running = await startTestSidecar({}, { store: new FakeStore(adminRowsOutsideApi(FIELD_POOL)) });
  await seedHardeningMapping(running.sidecar.service);
  view = await readMapping(running.sidecar.service);
  const issuer = running.issuer!;
  const signer = await devKeySigner(running.dataDir);
  devKid = signer.kid;
  callers = [];
  for (const caller of CALLERS) {
    const token = await issuer.mint({ user: caller.user, groups: [...caller.groups] });
    const proves = { user: userSubject(caller.user), groups: caller.groups.map((g) => `group:${g}`) };
    callers.push({ token, proves });
    // Every single-character change of a valid token must be refused.
    const at = token.length - 5;
    callers.push({
      token: token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1),
      proves: undefined,
    });
    const [header, payload] = token.split(".");
    const alteredPayload = Buffer.from(
      JSON.stringify({ ...devClaims("carol@corp.com"), groups: ["finance"] }),
    ).toString("base64url");
    callers.push({ token: `${header}.${alteredPayload}.${token.split(".")[2]}`, proves: undefined });
    callers.push({ token: `${header}.${payload}.`, proves: undefined });
  }
  const now = Math.floor(Date.now() / 1000);
  const wanted = devClaims("carol@corp.com", { groups: ["finance"] });
  callers.push(
    { token: unsignedToken(wanted), proves: undefined },
    { token: unsignedToken(wanted, "None"), proves: undefined },
    { token: await forgedToken(wanted, signer.kid), proves: undefined },
    {
      token: await hmacToken(wanted, new TextEncoder().encode(JSON.stringify(signer.publicJwk)), signer.kid),
      proves: undefined,
    },
    {
      token: await signer.sign({ ...wanted, exp: now - 3600, iat: now - 7200, nbf: now - 7200 }),
      proves: undefined,
    },
    { token: await signer.sign({ ...wanted, aud: "someone-else" }), proves: undefined },
    { token: await signer.sign({ ...wanted, iss: "https://evil.example" }), proves: undefined },
    { token: await signer.sign({ ...wanted, nbf: now + 3600 }), proves: undefined },
    { token: await signer.sign({ ...wanted, exp: undefined }), proves: undefined },
    { token: await signer.signRaw({ crit: ["exp"], exp: 1 }, wanted), proves: undefined },
    { token: "", proves: undefined },
    { token: "not-a-jwt", proves: undefined },
  );
});
afterAll(() => running?.stop());

// Half the draws are tokens that prove someone, so allowed answers are reached often enough to check them.
const callerArbitrary = fc.oneof(
  fc.nat().map((i) => callers.filter((c) => c.proves)[i % CALLERS.length] as Caller),
  fc.nat().map((i) => callers[i % callers.length] as Caller),
);

/** How the token is presented: the scheme and header spelling vary; some are not bearer tokens at all. */
const authorizationArbitrary = fc.tuple(
  callerArbitrary,
  fc.constantFrom("Authorization", "authorization", "AUTHORIZATION", "aUthorization"),
  fc.constantFrom("Bearer ", "bearer ", "BEARER\t", "Bearer  ", "Basic ", "", "Bearer x "),
  fc.constantFrom("", "", " ", "\n"),
);

const roleHeaderArbitrary = fc.option(
  fc.tuple(
    fc.constantFrom("X-Hasura-Role", "x-hasura-role"),
    fc.oneof(
      fc.constantFrom("r_orders", "r_customers", "r_both", "r_wide", "r_nobody", "sales_analysts", "admin"),
      fc.string({ maxLength: 8 }),
    ),
  ),
  { nil: undefined },
);

const extraHeadersArbitrary = fc.dictionary(
  fc.oneof(
    fc.constantFrom("x-request-id", "Content-Type", "x-hasura-user-id", "cookie"),
    fc.string({ maxLength: 12 }),
  ),
  fc.string({ maxLength: 20 }),
  { maxKeys: 4 },
);

// Short queries of mapped fields, which callers are often allowed to run.
const plainQueryArbitrary = fc
  .subarray(["orders", "customers", "orders_aggregate", "invoices", "__typename"], {
    minLength: 1,
    maxLength: 2,
  })
  .map((fields) => `query Q { ${fields.join(" ")} }`);

const requestArbitrary = fc.record(
  {
    query: fc.oneof(plainQueryArbitrary, documentArbitrary, mutatedDocumentArbitrary),
    operationName: operationNameArbitrary,
    variables: variablesArbitrary,
  },
  { requiredKeys: ["query"] },
);

/**
 * One generated webhook call: how the token is presented, the role asked for, other headers, the request
 * (undefined: the body has no `request` key, as Hasura sends with HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=false).
 */
interface FuzzBody {
  readonly auth: readonly [Caller, string, string, string] | undefined;
  readonly role: readonly [string, string] | undefined;
  readonly extra: Record<string, string>;
  readonly request: FuzzRequest | FuzzRequest[] | null | undefined;
}

interface FuzzRequest {
  readonly query: string;
  readonly operationName?: unknown;
  readonly variables?: unknown;
}

const anyBodyArbitrary: fc.Arbitrary<FuzzBody> = fc.record({
  auth: fc.option(authorizationArbitrary, { nil: undefined }),
  role: roleHeaderArbitrary,
  extra: extraHeadersArbitrary,
  request: fc.oneof(
    { weight: 8, arbitrary: requestArbitrary },
    { weight: 2, arbitrary: fc.array(requestArbitrary, { minLength: 1, maxLength: 4 }) },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  ),
});

// A well-behaved client: a valid token, perhaps a role asked for, plain queries or generated documents.
const plausibleBodyArbitrary: fc.Arbitrary<FuzzBody> = fc.record({
  auth: fc.tuple(
    fc.nat().map((i) => callers.filter((c) => c.proves)[i % CALLERS.length] as Caller),
    fc.constant("Authorization"),
    fc.constant("Bearer "),
    fc.constant(""),
  ),
  role: fc.option(
    fc.tuple(fc.constant("X-Hasura-Role"), fc.constantFrom("r_orders", "r_customers", "r_both", "r_wide")),
    { nil: undefined, freq: 2 },
  ),
  extra: fc.constant({} as Record<string, string>),
  request: fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({
        query: plainQueryArbitrary,
        operationName: fc.constant("Q"),
        variables: fc.constant(undefined),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        query: documentArbitrary,
        operationName: operationNameArbitrary,
        variables: variablesArbitrary,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.array(fc.record({ query: plainQueryArbitrary, operationName: fc.constant(undefined) }), {
        minLength: 1,
        maxLength: 3,
      }),
    },
  ),
});

const bodyArbitrary: fc.Arbitrary<FuzzBody> = fc.oneof(anyBodyArbitrary, plausibleBodyArbitrary);

function headersOf(body: FuzzBody): Record<string, string> {
  const headers: Record<string, string> = { ...body.extra };
  if (body.auth) {
    const [caller, name, scheme, trailing] = body.auth;
    headers[name] = `${scheme}${caller.token}${trailing}`;
  }
  if (body.role) headers[body.role[0]] = body.role[1];
  return headers;
}

/** The one header value the sidecar reads for `name` (case-insensitive), or undefined when absent. */
function headerValue(headers: Record<string, string>, name: string): string | undefined {
  const values = Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .map(([, value]) => value);
  return values[0];
}

/** Fails the property when a 200 grants something the caller may not run, or longer than it may. */
function checkGrant(
  body: FuzzBody,
  headers: Record<string, string>,
  answer: HttpAnswer,
  since: number,
): void {
  // Only a websocket's connection_init (request null) gets an expiry: Hasura would cache any other answer.
  const keys = ["X-Hasura-Role", "X-Hasura-User-Id", ...(body.request === null ? ["Expires"] : [])];
  expect(Object.keys(answer.json as object).sort()).toEqual(keys.sort());
  const {
    "X-Hasura-User-Id": user,
    "X-Hasura-Role": role,
    Expires: expires,
  } = answer.json as Record<string, unknown>;
  if (body.request === null) checkSessionEnd(expires, since);
  expect(typeof role).toBe("string");
  expect(RESERVED_ROLES.has(role as string), "a reserved role was answered").toBe(false);
  // The token that was presented must prove exactly the user answered.
  const authorization = headerValue(headers, "authorization");
  const match = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? "");
  const caller = callers.find((c) => c.token === match?.[1]);
  expect(caller?.proves, "a 200 for a token that proves nobody").toBeDefined();
  expect(user).toBe(caller!.proves!.user);
  // The caller holds the role it is given.
  expect(heldRoles(view, caller!.proves!.user, caller!.proves!.groups).has(role as string)).toBe(true);
  const requested = headerValue(headers, "x-hasura-role");
  if (requested !== undefined) expect(role).toBe(requested);
  // Every root field a GraphQL server would execute is mapped to that role; no mutation runs.
  const sent = body.request ?? [];
  const requests = Array.isArray(sent) ? sent : [sent];
  const allowed = view.rootFieldsOf.get(role as string) ?? new Set<string>();
  for (const request of requests) {
    const name =
      typeof request.operationName === "string" && request.operationName !== ""
        ? request.operationName
        : undefined;
    const variables =
      request.variables && typeof request.variables === "object" && !Array.isArray(request.variables)
        ? (request.variables as Record<string, unknown>)
        : undefined;
    expect(oracle.breaksSchemaFreeRules(request.query), "a 200 for a document the spec's rules refuse").toBe(
      false,
    );
    const executed = oracle.run(request.query, name, variables);
    if (!executed) continue;
    if (executed.fields.size > 0) expect(executed.type, "a mutation was allowed").not.toBe("mutation");
    for (const field of executed.fields) {
      expect(allowed.has(field), `root field ${field} is not mapped to role ${String(role)}`).toBe(true);
    }
  }
}

/** `Expires` in Hasura's `%a, %d %b %Y %T GMT`, no later than the default 600 s bound from now. */
function checkSessionEnd(expires: unknown, since: number): void {
  expect(expires).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  const at = Date.parse(expires as string);
  expect(at).toBeGreaterThanOrEqual(Math.floor(since / 1000) * 1000);
  expect(at).toBeLessThanOrEqual(Date.now() + 600_000);
}

describe("webhook fuzzing: random and mutated documents, headers and tokens", () => {
  it(
    "answers only 200/400/401/413/500 and never grants a field the returned role lacks",
    async () => {
      let granted = 0;
      const since = Date.now();
      await fc.assert(
        fc.asyncProperty(bodyArbitrary, async (body) => {
          const headers = headersOf(body);
          const answer = await postWebhook(running.webhookUrl, { headers, request: body.request });
          expect(ALLOWED_STATUSES.has(answer.status), `status ${answer.status}: ${answer.text}`).toBe(true);
          // No request to look at is never decided, whatever else the body holds.
          if (body.request === undefined) expect(answer.status, answer.text).toBe(400);
          if (answer.status === 200) {
            granted++;
            checkGrant(body, headers, answer, since);
          } else if (answer.status === 400 || answer.status === 413) {
            const errors = (answer.json as { errors?: unknown }).errors;
            expect(
              Array.isArray(errors) &&
                errors.length > 0 &&
                errors.every((e) => typeof e === "string" && e !== ""),
            ).toBe(true);
          }
        }),
        { numRuns: runs(0.5), seed: FC_SEED },
      );
      // The generators must reach allowed answers too, or the invariant above was never exercised.
      expect(granted).toBeGreaterThan(0);
    },
    fuzzTimeout(0.5),
  );

  it(
    "never authenticates a random JWT-shaped token: any header, any claims, any or a transplanted signature",
    async () => {
      const genuine = callers.filter((caller) => caller.proves).map((caller) => caller.token);
      const headerArbitrary = fc.record(
        {
          alg: fc.oneof(
            fc.constantFrom("RS256", "none", "HS256", "ES256", "PS256", "RS512", ""),
            fc.string({ maxLength: 6 }),
          ),
          kid: fc.oneof(fc.constant(devKid), fc.string({ maxLength: 8 })),
          typ: fc.constantFrom("JWT", "at+jwt", "JOSE"),
          crit: fc.array(fc.constantFrom("exp", "b64", "x"), { maxLength: 2 }),
          jku: fc.constant("http://127.0.0.1:9/jwks.json"),
          b64: fc.boolean(),
        },
        { requiredKeys: [] },
      );
      const claimsArbitrary = fc.record(
        {
          iss: fc.constantFrom("rolemapper-dev", "https://evil.example"),
          aud: fc.constantFrom("rolemapper-dev", ["rolemapper-dev", "x"], "x"),
          exp: fc.oneof(
            fc.integer(),
            fc.constant(Math.floor(Date.now() / 1000) + 600),
            fc.string({ maxLength: 4 }),
          ),
          nbf: fc.integer(),
          unique_name: fc.constantFrom("carol@corp.com", "alice@corp.com", ""),
          groups: fc.array(fc.constantFrom("finance", "analysts"), { maxLength: 2 }),
        },
        { requiredKeys: [] },
      );
      const signatureArbitrary = fc.oneof(
        fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
        fc.nat().map((i) => (genuine[i % genuine.length] as string).split(".")[2] as string),
        fc.constant(""),
      );
      await fc.assert(
        fc.asyncProperty(
          headerArbitrary,
          claimsArbitrary,
          signatureArbitrary,
          async (header, claims, signature) => {
            const token = `${b64(header)}.${b64(claims)}.${signature}`;
            const answer = await postWebhook(running.webhookUrl, {
              headers: { Authorization: `Bearer ${token}` },
              request: { query: "{ orders }" },
            });
            expect(answer.status, answer.text).toBe(401);
          },
        ),
        { numRuns: runs(0.1), seed: FC_SEED },
      );
    },
    fuzzTimeout(0.1),
  );

  it(
    "answers any JSON body, any raw bytes and any content type without crashing",
    async () => {
      const junk = fc.oneof(
        fc.jsonValue().map((value) => JSON.stringify(value) ?? "null"),
        fc.record({ headers: fc.jsonValue(), request: fc.jsonValue() }).map((value) => JSON.stringify(value)),
        fc.string(),
        fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString("latin1")),
      );
      await fc.assert(
        fc.asyncProperty(junk, async (raw) => {
          const answer = await postWebhook(running.webhookUrl, undefined, raw);
          expect(ALLOWED_STATUSES.has(answer.status), `status ${answer.status}: ${answer.text}`).toBe(true);
          // Nothing here carries a valid token.
          expect(answer.status).not.toBe(200);
        }),
        { numRuns: runs(0.2), seed: FC_SEED },
      );
      // The server is still answering normally afterwards.
      const health = await fetch(`${running.webhookUrl}/healthz`);
      expect(health.status).toBeLessThan(500);
    },
    fuzzTimeout(0.2),
  );
});
