import { describe, expect, it } from "vitest";
import { Authorizer, type AuthorizeInput } from "../../src/core/authorizer.js";
import { StubVerifier } from "../support/stub-identity.js";
import { authorizerDeps } from "./authorizer-fixture.js";
import { snapshotOf } from "./fixtures.js";

// The clock the authorizer is given: 2026-11-29 16:50:00.250 UTC.
const NOW_MS = Date.UTC(2026, 10, 29, 16, 50, 0, 250);
const NOW_S = Math.floor(NOW_MS / 1000);

const snapshot = snapshotOf(
  { r_orders: ["orders"], r_both: ["orders", "customers"] },
  { "user:alice_corp.com": ["r_orders"], "user:carol_corp.com": ["r_orders", "r_both"] },
);

const TOKENS = {
  "alice-long": { unique_name: "alice@corp.com", exp: NOW_S + 3600 },
  "alice-soon": { unique_name: "alice@corp.com", exp: NOW_S + 120 },
  "alice-fraction": { unique_name: "alice@corp.com", exp: NOW_S + 60.9 },
  "alice-past": { unique_name: "alice@corp.com", exp: NOW_S - 5 },
  carol: { unique_name: "carol@corp.com", exp: NOW_S + 3600 },
};

function authorizer(websocketSessionMaxS?: number): Authorizer {
  return new Authorizer(
    authorizerDeps({
      verifier: new StubVerifier(TOKENS),
      snapshot: () => snapshot,
      now: () => NOW_MS,
      ...(websocketSessionMaxS === undefined ? {} : { websocketSessionMaxS }),
    }),
  );
}

function input(token: string, request: AuthorizeInput["request"], role?: string): AuthorizeInput {
  const headers = new Map([["authorization", `Bearer ${token}`]]);
  if (role !== undefined) headers.set("x-hasura-role", role);
  return { headers, request };
}

describe("Authorizer.authorize: when a websocket session ends", () => {
  it.each([
    {
      name: "the bound (default 600 s) when the token lives longer",
      token: "alice-long",
      max: undefined,
      end: NOW_S + 600,
    },
    { name: "the token's exp when it comes first", token: "alice-soon", max: undefined, end: NOW_S + 120 },
    { name: "a configured bound", token: "alice-long", max: 30, end: NOW_S + 30 },
    {
      name: "the token's exp, rounded down to the second",
      token: "alice-fraction",
      max: 600,
      end: NOW_S + 60,
    },
    {
      name: "the token's exp even when already past (leeway): at once",
      token: "alice-past",
      max: 600,
      end: NOW_S - 5,
    },
  ])("is $name", async ({ token, max, end }) => {
    const result = await authorizer(max).authorize(input(token, null));
    expect(result).toMatchObject({ outcome: "allow", role: "r_orders", sessionEndsAt: end });
  });

  it("applies to a connection_init that asks for a role it may use", async () => {
    const result = await authorizer().authorize(input("carol", null, "r_both"));
    expect(result).toMatchObject({ outcome: "allow", role: "r_both", sessionEndsAt: NOW_S + 600 });
  });

  it.each([
    { name: "a query", request: { query: "{ orders { id } }", operationName: undefined } },
    {
      name: "a subscription",
      request: { query: "subscription { orders { id } }", operationName: undefined },
    },
    { name: "a batch", request: [{ query: "{ orders { id } }", operationName: undefined }] },
  ])("is not set for $name: only a websocket's connection_init has a session to end", async ({ request }) => {
    const result = await authorizer().authorize(input("alice-long", request));
    expect(result.outcome).toBe("allow");
    expect(result).not.toHaveProperty("sessionEndsAt");
  });

  it.each([
    { name: "a denied connection_init (several roles, none asked)", token: "carol" },
    { name: "a connection_init with an unknown token", token: "stranger" },
  ])("is not set for $name", async ({ token }) => {
    const result = await authorizer().authorize(input(token, null));
    expect(result.outcome).toBe("deny");
    expect(result).not.toHaveProperty("sessionEndsAt");
  });
});
