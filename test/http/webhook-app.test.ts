import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { Authorizer } from "../../src/core/authorizer.js";
import { UnavailableError } from "../../src/core/errors.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { DEFAULT_OPERATION_LIMITS } from "../../src/core/operation.js";
import type { Snapshot } from "../../src/core/snapshot.js";
import { DecisionLog } from "../../src/observability/decision-log.js";
import { createWebhookApp, type WebhookAppOptions } from "../../src/http/webhook-app.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { StubGroups, StubVerifier, uniqueName } from "../support/stub-identity.js";
import { snapshotOf } from "../core/fixtures.js";

// Token strings that must never reach a log line.
const ALICE = "tok-alice-5ecret-9f3a";
const CAROL = "tok-carol-5ecret-77c1";
const STRANGER = "tok-stranger-5ecret-0000";
const ALICE_SOON = "tok-alice-soon-5ecret-4b2e";

// The peers' clock, which tests move: it starts at Sunday 2026-11-01 16:50:00.250 UTC.
const START_MS = Date.UTC(2026, 10, 1, 16, 50, 0, 250);
const START_S = Math.floor(START_MS / 1000);
const clock = { ms: START_MS };

const BODY_LIMIT = 8 * 1024;
const MAX_QUERY_LENGTH = 2_000;
const MAX_TOKENS = 300;

const snapshot = snapshotOf(
  { r_orders: ["orders"], r_customers: ["customers"], r_both: ["orders", "customers"] },
  {
    "user:alice_corp.com": ["r_orders"],
    "user:carol_corp.com": ["r_orders", "r_both"],
    "group:Analysts": ["r_customers"],
  },
);

interface Peer {
  readonly url: string;
  /** Warnings and decisions both. */
  readonly log: RecordingLogger;
  readonly state: { stale: boolean; ready: boolean };
  readonly groups: StubGroups;
  close(): Promise<void>;
}

async function listen(app: RequestListener): Promise<{ url: string; server: Server }> {
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function startPeer(
  extra: Partial<WebhookAppOptions> = {},
  allowedSample = 1,
  websocketSessionMaxS?: number,
): Promise<Peer> {
  const log = new RecordingLogger();
  const state = { stale: false, ready: true };
  const groups = new StubGroups();
  const authorizer = new Authorizer({
    verifier: new StubVerifier({
      [ALICE]: { unique_name: "alice@corp.com", exp: START_S + 3600 },
      [CAROL]: { unique_name: "carol@corp.com", groups: ["Analysts"], exp: START_S + 3600 },
      [ALICE_SOON]: { unique_name: "alice@corp.com", exp: START_S + 120 },
    }),
    groups,
    snapshot: (): Snapshot => {
      if (state.stale) throw new UnavailableError("role mappings are stale: store unreachable for 90000 ms");
      return snapshot;
    },
    operations: new OperationCache({
      maxChars: 100_000,
      limits: { ...DEFAULT_OPERATION_LIMITS, maxQueryLength: MAX_QUERY_LENGTH, maxTokens: MAX_TOKENS },
    }),
    userName: uniqueName,
    tokenHeaders: ["Authorization"],
    allowIntrospection: false,
    maxBatch: 3,
    now: () => clock.ms,
    ...(websocketSessionMaxS === undefined ? {} : { websocketSessionMaxS }),
  });
  const app = createWebhookApp({
    authorizer,
    decisions: new DecisionLog(log.pino, allowedSample),
    ready: () => state.ready,
    bodyLimitBytes: BODY_LIMIT,
    maxBatch: 3,
    logger: log.pino,
    now: () => clock.ms,
    ...extra,
  });
  const { url, server } = await listen(app);
  return {
    url,
    log,
    state,
    groups,
    close: () => new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve()))),
  };
}

let peer: Peer;
beforeAll(async () => {
  peer = await startPeer();
});
afterAll(() => peer.close());
beforeEach(() => {
  clock.ms = START_MS;
  peer.state.stale = false;
  peer.state.ready = true;
  peer.groups.failWith = undefined;
});

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

async function post(body: unknown, raw?: string, contentType = "application/json"): Promise<Answer> {
  const response = await fetch(`${peer.url}/v1/authenticate`, {
    method: "POST",
    headers: { "content-type": contentType },
    body: raw ?? JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
    headers: response.headers,
  };
}

const hasura = (headers: Record<string, unknown>, request: unknown = { query: "{ orders { id } }" }) => ({
  headers,
  request,
});
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe("POST /v1/authenticate answers in Hasura's shapes", () => {
  it("200 with exactly the user id and role as strings when allowed", async () => {
    const answer = await post(
      hasura(bearer(ALICE), { query: "query Q { orders { id } }", operationName: "Q", variables: { a: 1 } }),
    );
    expect(answer.status).toBe(200);
    expect(answer.body).toStrictEqual({
      "X-Hasura-User-Id": "user:alice_corp.com",
      "X-Hasura-Role": "r_orders",
    });
    expect(answer.headers.get("content-type")).toMatch(/^application\/json/);
  });

  it.each([
    { name: "a field of no held role", body: hasura(bearer(ALICE), { query: "{ customers { id } }" }) },
    { name: "a mutation", body: hasura(bearer(ALICE), { query: "mutation { orders { id } }" }) },
    { name: "introspection", body: hasura(bearer(ALICE), { query: "{ __schema { types { name } } }" }) },
    { name: "an unknown token", body: hasura(bearer(STRANGER)) },
    { name: "no token header", body: hasura({ "Content-Type": "application/json" }) },
    { name: "a basic credential", body: hasura({ Authorization: "Basic YTpi" }) },
    { name: "a requested role not held", body: hasura({ ...bearer(ALICE), "X-Hasura-Role": "r_both" }) },
    { name: "connection_init with several roles and none asked", body: hasura(bearer(CAROL), null) },
  ])('401 "Unauthorized" for $name', async ({ body }) => {
    const answer = await post(body);
    expect(answer.status).toBe(401);
    expect(answer.body).toBe("Unauthorized");
  });

  it("400 with the parser's message when the query does not parse", async () => {
    const answer = await post(hasura(bearer(ALICE), { query: "{ orders { id }" }));
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ errors: [expect.stringMatching(/^query: Syntax Error/)] });
  });

  it("400 when several operations come without operationName", async () => {
    const answer = await post(
      hasura(bearer(ALICE), { query: "query A { orders { id } } query B { orders { id } }" }),
    );
    expect(answer).toMatchObject({
      status: 400,
      body: { errors: [expect.stringMatching(/operationName is required/)] },
    });
  });

  it("500 System error when the snapshot is too stale, never the details", async () => {
    peer.state.stale = true;
    const answer = await post(hasura(bearer(ALICE)));
    expect(answer.status).toBe(500);
    expect(answer.body).toStrictEqual({ error: "System error" });
  });

  it("500 System error when the group provider fails, for a caller who would be allowed", async () => {
    peer.groups.failWith = new UnavailableError("graph unreachable");
    const answer = await post(hasura(bearer(ALICE)));
    expect(answer).toMatchObject({ status: 500, body: { error: "System error" } });
  });
});

describe("POST /v1/authenticate requests", () => {
  it("reads header names in any case and the scheme in any case", async () => {
    const answer = await post(hasura({ AUTHORIZATION: `bEaReR ${CAROL}`, "X-HASURA-ROLE": "r_orders" }));
    expect(answer).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": "r_orders", "X-Hasura-User-Id": "user:carol_corp.com" },
    });
  });

  it("allows a batch one role can answer and denies one no role can", async () => {
    const both = [{ query: "{ orders { id } }" }, { query: "{ customers { id } }" }];
    expect(await post(hasura(bearer(CAROL), both))).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": "r_both" },
    });
    expect(await post(hasura(bearer(ALICE), both))).toMatchObject({ status: 401, body: "Unauthorized" });
  });

  it("answers connection_init (request null) with the one role held or the one asked", async () => {
    expect(await post(hasura(bearer(ALICE), null))).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": "r_orders" },
    });
    const asked = await post(hasura({ ...bearer(CAROL), "x-hasura-role": "r_customers" }, null));
    expect(asked).toMatchObject({ status: 200, body: { "X-Hasura-Role": "r_customers" } });
  });

  it("allows a subscription like a query", async () => {
    const answer = await post(hasura(bearer(ALICE), { query: "subscription { orders { id } }" }));
    expect(answer).toMatchObject({ status: 200, body: { "X-Hasura-Role": "r_orders" } });
  });

  it("parses the body whatever the content type says", async () => {
    const answer = await post(undefined, JSON.stringify(hasura(bearer(ALICE))), "text/plain");
    expect(answer.status).toBe(200);
  });

  it.each([
    { name: "invalid JSON", raw: '{"headers": {', message: "request body is not valid JSON" },
    { name: "a JSON string body", raw: '"hello"', message: "request body is not valid JSON" },
    { name: "a JSON array body", raw: "[]", message: /^body: / },
    {
      name: "request a number",
      raw: JSON.stringify({ headers: {}, request: 5 }),
      message: /^request: expected an object/,
    },
    {
      name: "headers not an object",
      raw: JSON.stringify({ headers: "x", request: null }),
      message: /^headers: /,
    },
    { name: "headers missing", raw: JSON.stringify({ request: null }), message: /^headers: / },
    {
      name: "a header value not a string",
      raw: JSON.stringify({ headers: { Authorization: 1 } }),
      message: /^headers\.Authorization: /,
    },
    {
      name: "one header spelled twice with different values",
      raw: JSON.stringify({
        headers: { authorization: `Bearer ${ALICE}`, Authorization: `Bearer ${CAROL}` },
      }),
      message: /given twice/,
    },
    {
      name: "query not a string",
      raw: JSON.stringify({ headers: {}, request: { query: 1 } }),
      message: /^request\.query: /,
    },
    {
      name: "operationName not a string",
      raw: JSON.stringify({ headers: {}, request: { query: "{a}", operationName: 2 } }),
      message: /^request\.operationName: /,
    },
    { name: "an empty batch", raw: JSON.stringify({ headers: {}, request: [] }), message: /empty batch/ },
    {
      name: "a batch over the bound",
      raw: JSON.stringify({ headers: {}, request: Array(4).fill({ query: "{a}" }) }),
      message: /at most 3/,
    },
    {
      name: "a batch entry not an object",
      raw: JSON.stringify({ headers: {}, request: [{ query: "{a}" }, "x"] }),
      message: /^request\[1\]: /,
    },
  ])("400 {errors} for $name", async ({ raw, message }) => {
    const answer = await post(undefined, raw);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({ errors: [expect.any(String)] });
    const [text] = (answer.body as { errors: string[] }).errors;
    if (typeof message === "string") expect(text).toBe(message);
    else expect(text).toMatch(message);
  });

  it("413 for a body over the limit, 200 for one just under it", async () => {
    const padded = (size: number) => {
      const base = JSON.stringify(hasura({ ...bearer(ALICE), "X-Pad": "" }));
      return JSON.stringify(hasura({ ...bearer(ALICE), "X-Pad": "p".repeat(size - base.length) }));
    };
    expect((await post(undefined, padded(BODY_LIMIT))).status).toBe(200);
    const over = await post(undefined, padded(BODY_LIMIT + 1));
    expect(over).toStrictEqual(
      expect.objectContaining({ status: 413, body: { errors: ["request body too large"] } }),
    );
  });

  it("400 for a query over the length bound", async () => {
    const query = `{ orders { ${"id ".repeat(MAX_QUERY_LENGTH)} } }`;
    const answer = await post(hasura(bearer(ALICE), { query }));
    expect(answer).toMatchObject({
      status: 400,
      body: { errors: [expect.stringMatching(/longer than 2000 characters/)] },
    });
  });

  it("400 for a query over the token bound", async () => {
    const query = `{ orders { ${"a ".repeat(MAX_TOKENS)} } }`;
    expect(query.length).toBeLessThan(MAX_QUERY_LENGTH);
    const answer = await post(hasura(bearer(ALICE), { query }));
    expect(answer).toMatchObject({ status: 400, body: { errors: [expect.stringMatching(/300 tokens/)] } });
  });
});

describe("POST /v1/authenticate: a websocket's session ends", () => {
  it.each([
    {
      name: "the bound (600 s) when the token outlives it",
      token: ALICE,
      expires: "Sun, 01 Nov 2026 17:00:00 GMT",
    },
    {
      name: "the token's exp when it comes first",
      token: ALICE_SOON,
      expires: "Sun, 01 Nov 2026 16:52:00 GMT",
    },
  ])("connection_init's 200 carries Expires: $name", async ({ token, expires }) => {
    const answer = await post(hasura(bearer(token), null));
    expect(answer).toMatchObject({ status: 200 });
    // Exactly Hasura's keys, Expires in its `%a, %d %b %Y %T GMT` format.
    expect(answer.body).toStrictEqual({
      "X-Hasura-User-Id": "user:alice_corp.com",
      "X-Hasura-Role": "r_orders",
      Expires: expires,
    });
  });

  it("follows the clock and the configured bound", async () => {
    const short = await startPeer({}, 1, 45);
    try {
      clock.ms = START_MS + 20 * 60_000;
      const answer = await fetch(`${short.url}/v1/authenticate`, {
        method: "POST",
        body: JSON.stringify(hasura({ ...bearer(CAROL), "X-Hasura-Role": "r_both" }, null)),
      });
      expect(await answer.json()).toStrictEqual({
        "X-Hasura-User-Id": "user:carol_corp.com",
        "X-Hasura-Role": "r_both",
        Expires: "Sun, 01 Nov 2026 17:10:45 GMT",
      });
    } finally {
      await short.close();
    }
  });

  it.each([
    { name: "a query", request: { query: "{ orders { id } }" } },
    { name: "a subscription", request: { query: "subscription { orders { id } }" } },
    { name: "a batch", request: [{ query: "{ orders { id } }" }, { query: "{ orders { id } }" }] },
  ])("no Expires or Cache-Control on the 200 for $name: Hasura would cache it", async ({ request }) => {
    const answer = await post(hasura(bearer(ALICE_SOON), request));
    expect(answer.body).toStrictEqual({
      "X-Hasura-User-Id": "user:alice_corp.com",
      "X-Hasura-Role": "r_orders",
    });
    expect(answer.headers.get("cache-control")).toBeNull();
    expect(answer.headers.get("expires")).toBeNull();
  });
});

describe("POST /v1/authenticate: a body without `request`", () => {
  const missing = (log: RecordingLogger) =>
    log.lines().filter((line) => line.event === "request_body_missing");

  it("is not a websocket: 400 naming Hasura's variable, and no decision", async () => {
    const own = await startPeer();
    try {
      const answer = await fetch(`${own.url}/v1/authenticate`, {
        method: "POST",
        body: JSON.stringify({ headers: bearer(ALICE) }),
      });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toStrictEqual({
        errors: [
          "request: missing: Hasura sends it only with HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=true " +
            "(set it on the Hasura container); null stands for a websocket connection_init",
        ],
      });
      expect(own.log.lines().filter((line) => line.event === "decision")).toEqual([]);
    } finally {
      await own.close();
    }
  });

  it("warns once a minute at most, however many calls, counting them", async () => {
    const own = await startPeer();
    const send = () =>
      fetch(`${own.url}/v1/authenticate`, {
        method: "POST",
        body: JSON.stringify({ headers: bearer(ALICE) }),
      });
    try {
      for (let i = 0; i < 5; i++) expect((await send()).status).toBe(400);
      expect(missing(own.log)).toHaveLength(1);
      clock.ms = START_MS + 59_999;
      await send();
      expect(missing(own.log)).toHaveLength(1);
      clock.ms = START_MS + 60_000;
      await send();
      clock.ms = START_MS + 60_001;
      await send();
      const lines = missing(own.log);
      expect(lines.map((line) => line.occurrences)).toEqual([1, 6]);
      expect(lines[1]).toMatchObject({
        level: 40,
        msg: expect.stringContaining("HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=true"),
      });
      // A body with `request: null` is a websocket's connection_init, not this misconfiguration.
      expect((await post(hasura(bearer(ALICE), null))).status).toBe(200);
    } finally {
      await own.close();
    }
  });
});

describe("POST /v1/authenticate: only documents Hasura would run are decided", () => {
  it.each([
    {
      name: "two fragments named alike (was decided on the last one: 200)",
      request: {
        query:
          "query { ...F } fragment F on query_root { customers { id } } fragment F on query_root { orders { id } }",
      },
      message: 'query: There can be only one fragment named "F".',
    },
    {
      name: "two operations named alike",
      request: { query: "query A { orders { id } } query A { customers { id } }", operationName: "A" },
      message: 'query: There can be only one operation named "A".',
    },
    {
      name: "an anonymous operation beside a named one",
      request: { query: "{ customers { id } } query B { orders { id } }", operationName: "B" },
      message: "query: This anonymous operation must be the only defined operation.",
    },
    {
      name: "a spread of an unknown fragment",
      request: { query: "{ orders { id } ...Missing }" },
      message: 'query: Unknown fragment "Missing".',
    },
    {
      name: "a fragment cycle",
      request: { query: "{ ...A } fragment A on query_root { orders { id } ...A }" },
      message: 'query: Cannot spread fragment "A" within itself.',
    },
    {
      name: "an invalid document in a batch",
      request: [{ query: "{ orders { id } }" }, { query: "{ orders { id } ...Missing }" }],
      message: 'query: Unknown fragment "Missing".',
    },
  ])("400 for $name, before any role is chosen", async ({ request, message }) => {
    const own = await startPeer();
    try {
      const answer = await fetch(`${own.url}/v1/authenticate`, {
        method: "POST",
        body: JSON.stringify(hasura(bearer(CAROL), request)),
      });
      expect(answer.status).toBe(400);
      expect(await answer.json()).toStrictEqual({ errors: [message] });
      const lines = own.log.lines();
      expect(lines).toMatchObject([{ event: "decision", outcome: "fail", reason: "invalid_argument" }]);
      expect(lines[0]).not.toHaveProperty("role");
    } finally {
      await own.close();
    }
  });

  it("decides a document with an unused fragment, which Hasura runs", async () => {
    const query = "{ orders { id } } fragment Unused on query_root { customers { id } }";
    expect(await post(hasura(bearer(ALICE), { query }))).toMatchObject({
      status: 200,
      body: { "X-Hasura-Role": "r_orders" },
    });
  });
});

describe("health routes", () => {
  it('GET /v1/health answers "Alive"', async () => {
    const response = await fetch(`${peer.url}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toBe("Alive");
  });

  it("GET /healthz answers 200", async () => {
    const response = await fetch(`${peer.url}/healthz`);
    expect(response.status).toBe(200);
  });

  it("GET /readyz follows the ready callback", async () => {
    expect((await fetch(`${peer.url}/readyz`)).status).toBe(200);
    peer.state.ready = false;
    const response = await fetch(`${peer.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ status: "not ready" });
  });
});

describe("/dev/jwks.json", () => {
  it("is not served unless development keys are given", async () => {
    expect((await fetch(`${peer.url}/dev/jwks.json`)).status).toBe(404);
  });

  it("serves the keys it was given", async () => {
    const keys = { keys: [{ kty: "EC", crv: "P-256", x: "x", y: "y", kid: "dev" }] };
    const dev = await startPeer({ devJwks: () => keys });
    try {
      const response = await fetch(`${dev.url}/dev/jwks.json`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual(keys);
    } finally {
      await dev.close();
    }
  });
});

describe("decision log", () => {
  it("writes one line per decision with its facts and never the token", async () => {
    const own = await startPeer();
    try {
      const post = (body: unknown, requestId?: string) =>
        fetch(`${own.url}/v1/authenticate`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(
            requestId
              ? {
                  ...(body as object),
                  headers: { ...(body as { headers: object }).headers, "X-Request-Id": requestId },
                }
              : body,
          ),
        });
      await post(
        hasura(bearer(ALICE), { query: "query Q { mine: orders { id } }", operationName: "Q" }),
        "req-1",
      );
      await post(hasura(bearer(ALICE), { query: "{ customers { id } }" }));
      await post(hasura(bearer(STRANGER)));
      own.state.stale = true;
      await post(hasura(bearer(CAROL)));
      own.state.stale = false;
      await post(hasura(bearer(ALICE), { query: "{ orders" }));

      const lines = own.log.lines();
      expect(lines).toHaveLength(5);
      for (const line of lines) {
        expect(line).toMatchObject({ event: "decision" });
        expect(line).toHaveProperty("outcome");
        expect(line).toHaveProperty("reason");
        expect(typeof line.latency_ms).toBe("number");
        expect(Array.isArray(line.root_fields)).toBe(true);
      }
      expect(lines[0]).toMatchObject({
        request_id: "req-1",
        user: "user:alice_corp.com",
        groups_count: 0,
        operation_type: "query",
        operation_name: "Q",
        root_fields: ["orders"],
        role: "r_orders",
        outcome: "allow",
        reason: "allowed",
      });
      expect(lines[1]).toMatchObject({
        user: "user:alice_corp.com",
        root_fields: ["customers"],
        outcome: "deny",
        reason: "no_role_for_fields",
      });
      expect(lines[2]).toMatchObject({ outcome: "deny", reason: "token_invalid" });
      expect(lines[2]?.user).toBeUndefined();
      expect(lines[3]).toMatchObject({
        user: "user:carol_corp.com",
        outcome: "fail",
        reason: "unavailable",
        error: { type: "UnavailableError", message: expect.stringMatching(/stale/) },
      });
      expect(lines[3]?.level).toBe(50);
      expect(lines[4]).toMatchObject({ outcome: "fail", reason: "invalid_argument" });

      const raw = own.log.raw();
      for (const token of [ALICE, CAROL, STRANGER]) expect(raw).not.toContain(token);
      expect(raw).not.toMatch(/5ecret/);
    } finally {
      await own.close();
    }
  });

  it("may leave allowed decisions out by sampling, never denials or failures", async () => {
    const own = await startPeer({}, 0);
    try {
      const send = (body: unknown) =>
        fetch(`${own.url}/v1/authenticate`, { method: "POST", body: JSON.stringify(body) }).then(
          (r) => r.status,
        );
      expect(await send(hasura(bearer(ALICE)))).toBe(200);
      expect(await send(hasura(bearer(STRANGER)))).toBe(401);
      own.state.stale = true;
      expect(await send(hasura(bearer(ALICE)))).toBe(500);
      expect(own.log.lines().map((line) => line.outcome)).toEqual(["deny", "fail"]);
    } finally {
      await own.close();
    }
  });
});
