import { describe, expect, it, vi } from "vitest";
import { Authorizer } from "../../src/core/authorizer.js";
import type { GroupProvider, TokenVerifier, VerifiedToken } from "../../src/core/identity.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import type { Snapshot } from "../../src/core/snapshot.js";
import { authorizerDeps } from "./authorizer-fixture.js";
import { snapshotOf } from "./fixtures.js";

// Like the token cache: one token verifies to the very same object every time, so the principal is reused.
const verified: VerifiedToken = Object.freeze({
  claims: Object.freeze({ unique_name: "alice@corp.com" }),
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
});
const verifier: TokenVerifier = { verify: async () => verified };

/** Groups that stay the same list object until `set` changes them, as a warm group cache answers. */
class SettableGroups implements GroupProvider {
  private current: readonly string[] = [];
  set(groups: readonly string[]): void {
    this.current = [...groups];
  }
  async groupsOf(): Promise<readonly string[]> {
    return this.current;
  }
}

/** Groups read from the claims alone, as the claims provider declares: counts how often it is asked. */
class CountedClaimsGroups implements GroupProvider {
  readonly claimsOnly = true;
  calls = 0;
  async groupsOf(claims: Readonly<Record<string, unknown>>): Promise<readonly string[]> {
    this.calls++;
    return claims.unique_name === "alice@corp.com" ? ["analysts"] : [];
  }
}

function setup<G extends GroupProvider>(initial: Snapshot, groups: G) {
  let snapshot = initial;
  const authorizer = new Authorizer(
    authorizerDeps({
      verifier,
      groups,
      snapshot: () => snapshot,
      operations: new OperationCache({ maxChars: 1_000_000 }),
      maxBatch: 10,
    }),
  );
  const ask = () =>
    authorizer.authorize({
      headers: new Map([["authorization", "Bearer alice-token"]]),
      request: { query: "{ sales { id } }", operationName: undefined },
    });
  return { ask, groups, replace: (next: Snapshot) => (snapshot = next) };
}

describe("a warm caller's remembered role set", () => {
  it("follows grants changed in place on the snapshot", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] });
    const { ask } = setup(snapshot, new SettableGroups());
    expect(await ask()).toMatchObject({ outcome: "deny", reason: "no_roles" });

    snapshot.replaceGrants("sales.read", "user:", ["user:alice_corp.com"]);
    expect(await ask()).toMatchObject({ outcome: "allow", role: "sales.read" });

    snapshot.replaceGrants("sales.read", "user:", []);
    expect(await ask()).toMatchObject({ outcome: "deny", reason: "no_roles" });
  });

  it("follows a role deleted in place and a new snapshot", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] }, { "user:alice_corp.com": ["sales.read"] });
    const { ask, replace } = setup(snapshot, new SettableGroups());
    expect(await ask()).toMatchObject({ outcome: "allow" });

    snapshot.deleteRole("sales.read");
    expect(await ask()).toMatchObject({ outcome: "deny" });

    replace(snapshotOf({ "sales.all": ["sales"] }, { "user:alice_corp.com": ["sales.all"] }));
    expect(await ask()).toMatchObject({ outcome: "allow", role: "sales.all" });
  });

  it("follows the group provider when the caller's groups change", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] }, { "group:analysts": ["sales.read"] });
    const { ask, groups } = setup(snapshot, new SettableGroups());
    expect(await ask()).toMatchObject({ outcome: "deny", groupCount: 0 });

    groups.set(["analysts"]);
    expect(await ask()).toMatchObject({ outcome: "allow", groupCount: 1 });

    groups.set(["interns"]);
    expect(await ask()).toMatchObject({ outcome: "deny", groupCount: 1 });
  });

  it("reads a claims-only provider's groups once per verified token, and still follows the snapshot", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] });
    const claimsGroups = new CountedClaimsGroups();
    const { ask } = setup(snapshot, claimsGroups);
    expect(await ask()).toMatchObject({ outcome: "deny", groupCount: 1 });
    expect(await ask()).toMatchObject({ outcome: "deny", groupCount: 1 });

    snapshot.replaceGrants("sales.read", "group:", ["group:analysts"]);
    expect(await ask()).toMatchObject({ outcome: "allow", role: "sales.read", groupCount: 1 });
    expect(claimsGroups.calls).toBe(1);
  });

  it("asks any other provider on every request", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] }, { "group:analysts": ["sales.read"] });
    let calls = 0;
    const { ask } = setup(snapshot, {
      async groupsOf() {
        calls++;
        return ["analysts"];
      },
    });
    await ask();
    await ask();
    expect(calls).toBe(2);
  });
});

// Alice's decisions through an authorizer over `snapshot`, with or without an X-Hasura-Role.
function caller(snapshot: Snapshot, operations = new OperationCache({ maxChars: 1_000_000 })) {
  const authorizer = new Authorizer(
    authorizerDeps({
      verifier,
      groups: new SettableGroups(),
      snapshot: () => snapshot,
      operations,
      maxBatch: 10,
    }),
  );
  return (query: string | string[], role?: string) =>
    authorizer.authorize({
      headers: new Map([
        ["authorization", "Bearer alice-token"],
        ...(role === undefined ? [] : [["x-hasura-role", role] as [string, string]]),
      ]),
      request: Array.isArray(query)
        ? query.map((text) => ({ query: text, operationName: undefined }))
        : { query, operationName: undefined },
    });
}

describe("a warm caller's remembered decisions", () => {
  it("follows a role's root fields changed in place", async () => {
    const snapshot = snapshotOf({ "sales.read": ["sales"] }, { "user:alice_corp.com": ["sales.read"] });
    const ask = caller(snapshot);
    expect(await ask("{ orders { id } }")).toMatchObject({ outcome: "deny", reason: "no_role_for_fields" });

    snapshot.putRole({ roleId: "sales.read", componentId: "c", rootFields: ["sales", "orders"] });
    expect(await ask("{ orders { id } }")).toMatchObject({ outcome: "allow", role: "sales.read" });
  });

  it("keeps the role asked for apart: the same operation under another X-Hasura-Role is decided anew", async () => {
    const snapshot = snapshotOf(
      { "sales.read": ["sales"], "sales.all": ["sales"] },
      { "user:alice_corp.com": ["sales.read"] },
    );
    const ask = caller(snapshot);
    expect(await ask("{ sales { id } }")).toMatchObject({ outcome: "allow", role: "sales.read" });
    expect(await ask("{ sales { id } }", "sales.all")).toMatchObject({
      outcome: "deny",
      reason: "role_not_held",
    });
    expect(await ask("{ sales { id } }", "sales.read")).toMatchObject({
      outcome: "allow",
      role: "sales.read",
    });
    expect(await ask("{ sales { id } }")).toMatchObject({ outcome: "allow", role: "sales.read" });
  });

  it("answers a repeated operation without the rules, and holds only the latest eight", async () => {
    const fields = Array.from({ length: 9 }, (_, i) => `f${i}`);
    const snapshot = snapshotOf({ reader: fields }, { "user:alice_corp.com": ["reader"] });
    const lookups = vi.spyOn(snapshot, "rolesForField");
    const ask = caller(snapshot);
    const lookupsOf = async (field: string) => {
      const before = lookups.mock.calls.length;
      expect(await ask(`{ ${field} }`)).toMatchObject({ outcome: "allow", role: "reader" });
      return lookups.mock.calls.length - before;
    };
    expect(await lookupsOf("f0")).toBeGreaterThan(0);
    expect(await lookupsOf("f0")).toBe(0);
    for (const field of fields.slice(1)) expect(await lookupsOf(field)).toBeGreaterThan(0);
    // f0 was the ninth most recent: decided again.
    expect(await lookupsOf("f0")).toBeGreaterThan(0);
    expect(await lookupsOf("f8")).toBe(0);
  });
});

describe("what a warm caller's decisions are remembered for", () => {
  function counted(query: string | string[]) {
    const snapshot = snapshotOf({ reader: ["sales", "orders"] }, { "user:alice_corp.com": ["reader"] });
    const operations = new OperationCache({ maxChars: 1_000_000 });
    const analyses = vi.spyOn(operations, "analyze");
    const lookups = vi.spyOn(snapshot, "rolesForField");
    const decideAsAlice = caller(snapshot, operations);
    const ask = async () => {
      const before = { analyses: analyses.mock.calls.length, lookups: lookups.mock.calls.length };
      expect(await decideAsAlice(query)).toMatchObject({ outcome: "allow" });
      return {
        analysed: analyses.mock.calls.length > before.analyses,
        decided: lookups.mock.calls.length > before.lookups,
      };
    };
    return ask;
  }

  it("a repeated single operation: neither analysed nor decided again", async () => {
    const ask = counted("{ sales { id } }");
    expect(await ask()).toEqual({ analysed: true, decided: true });
    expect(await ask()).toEqual({ analysed: false, decided: false });
  });

  it("a batch: analysed and decided every time", async () => {
    const ask = counted(["{ sales { id } }"]);
    expect(await ask()).toEqual({ analysed: true, decided: true });
    expect(await ask()).toEqual({ analysed: true, decided: true });
  });

  it("a document over 2 KB: decided every time, so a principal holds at most 16 KB of documents", async () => {
    const ask = counted(`{ sales { id } } # ${"x".repeat(2048)}`);
    expect(await ask()).toEqual({ analysed: true, decided: true });
    expect(await ask()).toEqual({ analysed: true, decided: true });
  });
});
