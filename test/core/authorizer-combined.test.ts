import { describe, expect, it } from "vitest";
import { Authorizer, type AuthorizeInput } from "../../src/core/authorizer.js";
import type { CombinedRoles } from "../../src/core/combined-roles.js";
import { combinedRoleName } from "../../src/core/role-cover.js";
import { StubVerifier } from "../support/stub-identity.js";
import { authorizerDeps } from "./authorizer-fixture.js";
import { snapshotOf } from "./fixtures.js";

// Issue 16 §1: a combined role is answered only once the engine has it; otherwise combined_role_unavailable.
const snapshot = snapshotOf(
  { r_orders: ["orders"], r_customers: ["customers"] },
  { "user:alice_corp.com": ["r_orders", "r_customers"], "user:bob_corp.com": ["r_orders"] },
);
const PREFIX = "rolemapper_combined_";
const BOTH = combinedRoleName(PREFIX, ["r_customers", "r_orders"]);

/** Records what it was asked; creation succeeds or fails as told. */
class RecordingRoles implements CombinedRoles {
  readonly known = new Set<string>();
  readonly ensured: [string, readonly string[]][] = [];
  constructor(private readonly fail = false) {}
  exists(name: string): boolean {
    return this.known.has(name);
  }
  ensure(name: string, parents: readonly string[]): Promise<void> {
    this.ensured.push([name, parents]);
    if (this.fail) return Promise.reject(new Error("metadata API down"));
    this.known.add(name);
    return Promise.resolve();
  }
  dropWithParent(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(roles: RecordingRoles) {
  return new Authorizer(
    authorizerDeps({
      verifier: new StubVerifier({
        alice: { unique_name: "alice@corp.com" },
        bob: { unique_name: "bob@corp.com" },
      }),
      snapshot: () => snapshot,
      combined: { options: { maxParents: 8, prefix: PREFIX }, roles },
    }),
  );
}

const ask = (token: string, request: AuthorizeInput["request"]): AuthorizeInput => ({
  headers: new Map([["authorization", `Bearer ${token}`]]),
  request,
});
const BOTH_QUERY = { query: "{ orders { id } customers { id } }", operationName: undefined };

describe("Authorizer with combined roles", () => {
  it("creates the combined role once, then answers it from the map", async () => {
    const roles = new RecordingRoles();
    const authorizer = setup(roles);
    const first = await authorizer.authorize(ask("alice", BOTH_QUERY));
    expect(first).toMatchObject({ outcome: "allow", role: BOTH, parents: ["r_customers", "r_orders"] });
    expect(await authorizer.authorize(ask("alice", BOTH_QUERY))).toMatchObject({
      outcome: "allow",
      role: BOTH,
    });
    expect(roles.ensured).toEqual([[BOTH, ["r_customers", "r_orders"]]]);
  });

  it("denies with combined_role_unavailable when the engine does not confirm, never another role", async () => {
    const result = await setup(new RecordingRoles(true)).authorize(ask("alice", BOTH_QUERY));
    expect(result).toMatchObject({
      outcome: "deny",
      role: undefined,
      reason: "combined_role_unavailable",
      parents: ["r_customers", "r_orders"],
    });
  });

  it("still denies a caller who holds only one of the roles", async () => {
    const roles = new RecordingRoles();
    const result = await setup(roles).authorize(ask("bob", BOTH_QUERY));
    expect(result).toMatchObject({ outcome: "deny", reason: "no_role_for_fields" });
    expect(roles.ensured).toEqual([]);
  });

  it("gives a websocket connection_init of a caller with several roles the combined role of all", async () => {
    const result = await setup(new RecordingRoles()).authorize(ask("alice", null));
    expect(result).toMatchObject({ outcome: "allow", role: BOTH, parents: ["r_customers", "r_orders"] });
    expect(result.sessionEndsAt).toBeTypeOf("number");
  });

  it("explains the covering set and the combined role without creating it", async () => {
    const roles = new RecordingRoles();
    const explanation = await setup(roles).explain({ user: "user:alice_corp.com", query: BOTH_QUERY.query });
    expect(explanation).toMatchObject({
      allowed: true,
      role: BOTH,
      coveringRoles: ["r_customers", "r_orders"],
      combinedRole: BOTH,
      candidateRoles: [],
    });
    expect(roles.ensured).toEqual([]);
  });
});
