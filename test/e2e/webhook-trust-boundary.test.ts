import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";
import { startHasuraSidecar, type HasuraSidecar } from "../support/hasura-sidecar.js";
import type { JwksIssuer } from "../support/jwks-issuer.js";
import type { RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// The whole sidecar behind Hasura (the stand-in), keeping its mappings in that Hasura: what it refuses to decide,
// and when the sessions it grants end. A second Hasura on the same database sends the hook no request, as
// HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=false makes Hasura do.
const ADMIN_SECRET = "e2e-admin-secret";
const SESSION_MAX_S = 90;
let stack: HasuraSidecar | undefined;
let issuer: JwksIssuer;
let hasura: HasuraStandIn;
let bodiless: HasuraStandIn;
let running: RunningSidecar;

beforeAll(async () => {
  stack = await startHasuraSidecar({
    adminSecret: ADMIN_SECRET,
    env: { WEBSOCKET_SESSION_MAX_S: String(SESSION_MAX_S) },
  });
  ({ issuer, hasura, running } = stack);
  bodiless = await startHasuraStandIn({
    client: stack.client,
    adminSecret: ADMIN_SECRET,
    authHook: stack.authHook,
    authHookSendRequestBody: false,
    migrate: false,
  });
  const service = running.sidecar.service;
  await service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales_reader",
    componentId: "urn:sales",
    rootFields: ["output_port_sales"],
  });
  await service.upsertRole(INTERNAL_CALLER, {
    roleId: "mappings_reader",
    componentId: "urn:m",
    rootFields: ["rolemapping_roles"],
  });
  await service.setUserRoles(INTERNAL_CALLER, "sales_reader", ["user:alice_corp.com"]);
});

afterAll(async () => {
  await bodiless?.close();
  await stack?.close();
});

const nowS = () => Math.floor(Date.now() / 1000);
const aliceToken = (exp?: number) =>
  issuer.sign({ unique_name: "alice@corp.com", ...(exp === undefined ? {} : { exp }) });
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const HOOK_FAILED = {
  message: "Invalid response from authorization hook",
  extensions: { path: "$", code: "unexpected" },
};

// Hasura reads `Expires` with `%a, %d %b %Y %T GMT`; this reads it the same strict way, into seconds.
function hasuraExpiry(value: unknown): number {
  const match =
    /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(
      String(value),
    );
  expect(match, `Expires "${String(value)}" is not in Hasura's format`).not.toBeNull();
  const month = "JanFebMarAprMayJunJulAugSepOctNovDec".indexOf(match![3]!) / 3;
  const [day, year, hours, minutes, seconds] = [2, 4, 5, 6, 7].map((i) => Number(match![i]));
  const time = Date.UTC(year!, month, day!, hours!, minutes!, seconds!);
  expect(new Date(time).toUTCString().slice(0, 3)).toBe(match![1]);
  return time / 1000;
}

describe("a websocket's session ends", () => {
  it("at the token's exp when it comes before the bound", async () => {
    const exp = nowS() + 30;
    const answer = await running.post({ headers: bearer(await aliceToken(exp)), request: null });
    expect(answer.status).toBe(200);
    const body = answer.body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["X-Hasura-User-Id", "X-Hasura-Role", "Expires"]);
    expect(body["X-Hasura-Role"]).toBe("sales_reader");
    expect(hasuraExpiry(body.Expires)).toBe(exp);
  });

  it("at WEBSOCKET_SESSION_MAX_S from now when the token lives longer", async () => {
    const token = await aliceToken(nowS() + 3600);
    const before = nowS();
    const answer = await running.post({ headers: bearer(token), request: null });
    const after = nowS();
    const ends = hasuraExpiry((answer.body as Record<string, unknown>).Expires);
    expect(ends).toBeGreaterThanOrEqual(before + SESSION_MAX_S);
    expect(ends).toBeLessThanOrEqual(after + SESSION_MAX_S);
  });

  it("is not set on an ordinary request, which Hasura serves with the role", async () => {
    const token = await aliceToken();
    expect(
      await running.post({ headers: bearer(token), request: { query: "{ output_port_sales { id } }" } }),
    ).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales_reader" },
    });
    const query = "{ output_port_sales(order_by: {id: asc}) { id region amount } }";
    const answer = await postGraphQL(hasura.url, query, { headers: bearer(token) });
    expect(answer).toEqual({ status: 200, body: { data: { output_port_sales: SAMPLE_ROWS } } });
  });
});

describe("a body without `request` is not a websocket", () => {
  it("fails the client's request in Hasura, warns once, and the sidecar goes on deciding", async () => {
    const token = await aliceToken();
    for (let i = 0; i < 3; i++) {
      const answer = await postGraphQL(bodiless.url, "{ output_port_sales { id } }", {
        headers: bearer(token),
      });
      expect(answer.status).toBe(500);
      expect(answer.body.errors).toEqual([HOOK_FAILED]);
    }
    const direct = await running.post({ headers: bearer(token) });
    expect(direct.status).toBe(400);
    expect(JSON.stringify(direct.body)).toContain("HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=true");
    const warnings = running.log.lines().filter((line) => line.event === "request_body_missing");
    expect(warnings).toEqual([expect.objectContaining({ level: 40, occurrences: 1 })]);
    expect(
      (await postGraphQL(hasura.url, "{ output_port_sales { id } }", { headers: bearer(token) })).status,
    ).toBe(200);
  });
});

describe("only documents Hasura would run are decided", () => {
  // Alice may read output_port_sales, not rolemapping_roles. Each document was answered 200 before (the sidecar
  // read the definition naming output_port_sales), while a reader taking the other one runs rolemapping_roles.
  const attacks = [
    {
      name: "two fragments named F",
      query:
        "query { ...F } fragment F on query_root { rolemapping_roles { role_id } } " +
        "fragment F on query_root { output_port_sales { id } }",
      message: 'query: There can be only one fragment named "F".',
    },
    {
      name: "two operations named Q",
      query: "query Q { output_port_sales { id } } query Q { rolemapping_roles { role_id } }",
      operationName: "Q",
      message: 'query: There can be only one operation named "Q".',
    },
  ];

  it.each(attacks)(
    "$name: 400 from the sidecar, so Hasura runs nothing",
    async ({ query, operationName, message }) => {
      const token = await aliceToken();
      const direct = await running.post({ headers: bearer(token), request: { query, operationName } });
      expect(direct).toEqual({ status: 400, body: { errors: [message] } });
      const decided = running.log.lines().filter((line) => line.event === "decision");
      expect(decided.at(-1)).toMatchObject({ outcome: "fail", reason: "invalid_argument" });
      expect(decided.at(-1)).not.toHaveProperty("role");
      const answer = await postGraphQL(hasura.url, query, {
        headers: bearer(token),
        ...(operationName ? { operationName } : {}),
      });
      expect(answer.status).toBe(500);
      expect(answer.body.errors).toEqual([HOOK_FAILED]);
      expect(answer.body.data).toBeUndefined();
    },
  );
});
