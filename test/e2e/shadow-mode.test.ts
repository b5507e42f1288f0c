import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FakeStore } from "../support/fake-store.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import {
  startPreviousService,
  type PreviousMapping,
  type PreviousService,
} from "../support/previous-service.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// The sidecar (its store in memory) with SHADOW_WEBHOOK_URL set to a stand-in of the previous service holding the
// same mapping.
const MAPPING: PreviousMapping = {
  roles: [
    { roleId: "sales", rootFields: ["sales_orders", "sales_totals"] },
    { roleId: "finance", rootFields: ["finance_invoices"] },
  ],
  grants: { sales: ["group:analysts"], finance: ["user:bob_corp.com"] },
};
let issuer: JwksIssuer;
let previous: PreviousService;
const running: RunningSidecar[] = [];

beforeAll(async () => {
  issuer = await JwksIssuer.start();
  previous = await startPreviousService({
    jwksUrl: issuer.jwksUrl,
    issuer: issuer.url,
    audience: issuer.audience,
    mapping: MAPPING,
  });
});

afterEach(async () => {
  for (const sidecar of running.splice(0)) await sidecar.stop();
});

afterAll(async () => {
  await previous?.close();
  await issuer?.close();
});

async function sidecarWith(env: Record<string, string>): Promise<RunningSidecar> {
  const sidecar = await startTestSidecar(
    { ...issuerEnv(issuer), SHADOW_WEBHOOK_URL: previous.url, ...env },
    { store: new FakeStore() },
  );
  running.push(sidecar);
  for (const role of MAPPING.roles)
    await sidecar.sidecar.service.upsertRole(INTERNAL_CALLER, { ...role, componentId: `urn:${role.roleId}` });
  await sidecar.sidecar.service.setGroupRoles(INTERNAL_CALLER, "sales", ["group:analysts"]);
  await sidecar.sidecar.service.setUserRoles(INTERNAL_CALLER, "finance", ["user:bob_corp.com"]);
  return sidecar;
}

async function comparisons(sidecar: RunningSidecar): Promise<Record<string, number>> {
  const metric = await sidecar.sidecar.metrics.registry
    .getSingleMetric("rolemapper_shadow_comparisons_total")
    ?.get();
  return Object.fromEntries((metric?.values ?? []).map((v) => [String(v.labels.result), v.value]));
}

const diffs = (sidecar: RunningSidecar) => sidecar.log.lines().filter((line) => line.event === "shadow_diff");
const alice = () => issuer.sign({ unique_name: "alice@corp.com", groups: ["analysts"] });
const bob = () => issuer.sign({ unique_name: "bob@corp.com", groups: ["analysts"] });
const query = (q: string) => ({ query: q });

describe("shadow mode, this sidecar answering", () => {
  it("agrees with the previous service on plain queries, allowed and denied, and logs no diff", async () => {
    const sidecar = await sidecarWith({});
    const token = await alice();
    const headers = { Authorization: `Bearer ${token}`, "x-request-id": "plain-1" };
    expect(
      (await sidecar.post({ headers, request: query("{ sales_orders { id } sales_totals { sum } }") }))
        .status,
    ).toBe(200);
    expect((await sidecar.post({ headers, request: query("{ finance_invoices { id } }") })).status).toBe(401);
    expect(
      (await sidecar.post({ headers, request: query("mutation { delete_sales_orders { affected_rows } }") }))
        .status,
    ).toBe(401);
    await expect.poll(() => comparisons(sidecar)).toEqual({ agree: 3 });
    expect(diffs(sidecar)).toEqual([]);
  });

  it("shows each known difference as one shadow_diff line with both sides, never the token", async () => {
    const sidecar = await sidecarWith({});
    const aliceToken = await alice();
    const bobToken = await bob();
    const auth = (token: string, id: string, extra: Record<string, string> = {}) => ({
      Authorization: `Bearer ${token}`,
      "x-request-id": id,
      ...extra,
    });
    await sidecar.post({
      headers: auth(aliceToken, "sub"),
      request: query("subscription { sales_orders { id } }"),
    });
    await sidecar.post({ headers: auth(aliceToken, "ws"), request: null });
    await sidecar.post({ headers: auth(aliceToken, "batch"), request: [query("{ sales_orders { id } }")] });
    // Bob holds finance and, through his group, sales: he asks for finance on a sales query.
    await sidecar.post({
      headers: auth(bobToken, "role", { "X-Hasura-Role": "finance" }),
      request: query("{ sales_orders { id } }"),
    });
    await expect.poll(() => comparisons(sidecar)).toEqual({ disagree: 4 });
    const byId = Object.fromEntries(diffs(sidecar).map((line) => [line.request_id, line]));
    expect(byId.sub).toMatchObject({
      user: "user:alice_corp.com",
      operation_type: "subscription",
      root_fields: ["sales_orders"],
      self: { outcome: "allow", status: 200, role: "sales", reason: "allowed" },
      shadow: { outcome: "deny", status: 401 },
    });
    expect(byId.ws).toMatchObject({
      user: "user:alice_corp.com",
      root_fields: [],
      self: { outcome: "allow", status: 200, role: "sales", reason: "allowed" },
      shadow: { outcome: "other", status: 422 },
    });
    expect(byId.batch).toMatchObject({
      root_fields: ["sales_orders"],
      self: { outcome: "allow", status: 200, role: "sales" },
      shadow: { outcome: "other", status: 422 },
    });
    expect(byId.role).toMatchObject({
      user: "user:bob_corp.com",
      root_fields: ["sales_orders"],
      self: { outcome: "deny", status: 401, reason: "role_not_allowed_for_fields" },
      shadow: { outcome: "allow", status: 200, role: "sales" },
    });
    expect(sidecar.log.raw()).not.toContain(aliceToken);
    expect(sidecar.log.raw()).not.toContain(bobToken);
  });

  it("answers before the previous service does", async () => {
    const sidecar = await sidecarWith({});
    const release = previous.hold();
    const before = previous.received();
    const answer = await sidecar.ask(await alice(), "{ sales_orders { id } }");
    // The client has its answer while the previous service still holds its own.
    expect(answer).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales" },
    });
    await expect.poll(() => previous.received()).toBe(before + 1);
    expect(await comparisons(sidecar)).toEqual({});
    release();
    await expect.poll(() => comparisons(sidecar)).toEqual({ agree: 1 });
  });

  it("skips and counts comparisons past SHADOW_MAX_IN_FLIGHT", async () => {
    const sidecar = await sidecarWith({ SHADOW_MAX_IN_FLIGHT: "1" });
    const release = previous.hold();
    const token = await alice();
    for (let i = 0; i < 3; i++)
      expect((await sidecar.ask(token, "{ sales_orders { id } }")).status).toBe(200);
    expect(await comparisons(sidecar)).toEqual({ skipped: 2 });
    release();
    await expect.poll(() => comparisons(sidecar)).toEqual({ skipped: 2, agree: 1 });
  });

  it("counts an error when the previous service does not answer within SHADOW_TIMEOUT_MS", async () => {
    const sidecar = await sidecarWith({ SHADOW_TIMEOUT_MS: "50" });
    const release = previous.hold();
    try {
      expect((await sidecar.ask(await alice(), "{ sales_orders { id } }")).status).toBe(200);
      await expect.poll(() => comparisons(sidecar)).toEqual({ error: 1 });
      expect(sidecar.log.lines()).toContainEqual(expect.objectContaining({ event: "shadow_error" }));
    } finally {
      release();
    }
  });

  it("asks nobody with SHADOW_SAMPLE=0", async () => {
    const sidecar = await sidecarWith({ SHADOW_SAMPLE: "0" });
    const before = previous.received();
    expect((await sidecar.ask(await alice(), "{ sales_orders { id } }")).status).toBe(200);
    expect(previous.received()).toBe(before);
    expect(await comparisons(sidecar)).toEqual({});
  });
});

describe("shadow mode, the previous service answering (SHADOW_ANSWER=shadow)", () => {
  it("answers with the previous service's status and body, and still compares", async () => {
    const sidecar = await sidecarWith({ SHADOW_ANSWER: "shadow" });
    const token = await alice();
    expect(await sidecar.post({ headers: { Authorization: `Bearer ${token}` }, request: null })).toEqual({
      status: 422,
      body: { detail: [{ msg: "request" }] },
    });
    expect(await sidecar.ask(token, "{ sales_orders { id } }")).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales" },
    });
    await expect.poll(() => comparisons(sidecar)).toEqual({ agree: 1, disagree: 1 });
  });

  it("answers 500 when the previous service fails", async () => {
    const sidecar = await startTestSidecar(
      {
        ...issuerEnv(issuer),
        SHADOW_WEBHOOK_URL: "http://127.0.0.1:1/v1/authenticate",
        SHADOW_ANSWER: "shadow",
      },
      { store: new FakeStore() },
    );
    running.push(sidecar);
    expect(await sidecar.ask(await alice(), "{ sales_orders { id } }")).toEqual({
      status: 500,
      body: { error: "System error" },
    });
    expect(await comparisons(sidecar)).toEqual({ error: 1 });
  });

  it("answers 500 at once past SHADOW_MAX_IN_FLIGHT while the previous service is slow, and counts it", async () => {
    const sidecar = await sidecarWith({ SHADOW_ANSWER: "shadow", SHADOW_MAX_IN_FLIGHT: "1" });
    const token = await alice();
    const release = previous.hold();
    const before = previous.received();
    const waiting = sidecar.ask(token, "{ sales_orders { id } }");
    await expect.poll(() => previous.received()).toBe(before + 1);
    expect(await sidecar.ask(token, "{ sales_orders { id } }")).toEqual({
      status: 500,
      body: { error: "System error" },
    });
    release();
    expect(await waiting).toEqual({
      status: 200,
      body: { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "sales" },
    });
    const overLimit = await sidecar.sidecar.metrics.registry
      .getSingleMetric("rolemapper_shadow_over_limit_total")
      ?.get();
    expect(overLimit?.values[0]?.value).toBe(1);
    await expect.poll(() => comparisons(sidecar)).toEqual({ agree: 1, skipped: 1 });
    expect(sidecar.log.lines()).toContainEqual(expect.objectContaining({ event: "shadow_over_limit" }));
  });
});
