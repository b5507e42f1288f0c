import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { InvalidArgumentError, UnauthenticatedError } from "../../src/core/errors.js";
import { userSubject } from "../../src/core/subjects.js";
import { createClaimsGroupProvider } from "../../src/identity/claims-groups.js";
import { parseClaimPath, readClaimPath } from "../../src/identity/claims-path.js";
import { userNameFromClaims } from "../../src/identity/user-claim.js";
import { entraV1, entraV2 } from "../support/fixtures/entra/index.js";
import { rejectionReason as reason } from "../support/rejections.js";

describe("groups from token claims", () => {
  it.each([
    ["Entra v1 (group object ids)", "groups", entraV1().claims, entraV1().claims.groups],
    [
      "Keycloak realm roles",
      "realm_access.roles",
      { realm_access: { roles: ["analysts", "offline_access"] } },
      ["analysts", "offline_access"],
    ],
    ["Keycloak groups", "groups", { groups: ["/data/analysts"] }, ["/data/analysts"]],
    ["Okta", "groups", { groups: ["Everyone", "Engineering"] }, ["Everyone", "Engineering"]],
    [
      "Auth0 namespaced claim",
      "https://example.com/groups",
      { "https://example.com/groups": ["analysts"], https: { "//example": "decoy" } },
      ["analysts"],
    ],
    ["ADFS single value", "group", { group: "Domain Users" }, ["Domain Users"]],
    ["missing claim", "groups", { unique_name: "a" }, []],
    ["duplicates", "groups", { groups: ["a", "b", "a"] }, ["a", "b"]],
  ])("reads %s", async (_name, claim, claims, expected) => {
    expect(await createClaimsGroupProvider({ claim }).groupsOf(claims)).toEqual(expected);
  });

  it("prefers a top-level claim whose name contains dots over the dotted path", async () => {
    const claims = { "realm_access.roles": ["top"], realm_access: { roles: ["nested"] } };
    expect(await createClaimsGroupProvider({ claim: "realm_access.roles" }).groupsOf(claims)).toEqual([
      "top",
    ]);
  });

  it.each([
    ["an object", { groups: { a: 1 } }, "groups_claim_invalid"],
    ["a number", { groups: 7 }, "groups_claim_invalid"],
    ["a list with a non-string", { groups: ["a", 1] }, "groups_claim_invalid"],
    ["a list with an empty name", { groups: ["a", ""] }, "groups_claim_invalid"],
    ["too many groups", { groups: ["a", "b", "c", "d"] }, "groups_claim_too_large"],
  ])("refuses a claim holding %s", async (_name, claims, expected) => {
    expect(await reason(createClaimsGroupProvider({ maxGroups: 3 }).groupsOf(claims))).toBe(expected);
  });

  it("never throws on arbitrary claim sets: returns strings or refuses as unauthenticated", async () => {
    const provider = createClaimsGroupProvider({ claim: "a.b" });
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (value) => {
        const claims = { a: { b: value } };
        try {
          const groups = await provider.groupsOf(claims);
          expect(groups.every((g) => typeof g === "string" && g.length > 0)).toBe(true);
        } catch (error) {
          expect(error).toBeInstanceOf(UnauthenticatedError);
        }
      }),
    );
  });
});

describe("claim paths", () => {
  it("walks nested objects and finds values placed at any depth", () => {
    const segment = fc.stringMatching(/^[a-z_]{1,8}$/);
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), fc.string(), (segments, leaf) => {
        const claims = segments.reduceRight<unknown>((inner, key) => ({ [key]: inner }), leaf) as Record<
          string,
          unknown
        >;
        expect(readClaimPath(claims, segments.join("."))).toBe(leaf);
      }),
    );
  });

  it("returns undefined through lists, primitives and missing steps", () => {
    const claims = { a: [{ b: 1 }], c: "text", d: null };
    expect(readClaimPath(claims, "a.0.b")).toBeUndefined();
    expect(readClaimPath(claims, "c.length")).toBeUndefined();
    expect(readClaimPath(claims, "d.x")).toBeUndefined();
    expect(readClaimPath(claims, "toString")).toBeUndefined();
    expect(readClaimPath(claims, "constructor.name")).toBeUndefined();
  });

  it("validates configured paths", () => {
    expect(parseClaimPath(" realm_access.roles ")).toBe("realm_access.roles");
    expect(parseClaimPath("https://example.com/groups")).toBe("https://example.com/groups");
    expect(() => parseClaimPath("a..b")).toThrow(InvalidArgumentError);
    expect(() => parseClaimPath("")).toThrow(/GROUPS_CLAIM/);
  });
});

describe("user claim", () => {
  it("uses unique_name by default (Entra v1)", () => {
    expect(userNameFromClaims(entraV1().claims)).toBe("alice@contoso.com");
  });

  it("tries the configured claims in order (Entra v2 has only preferred_username)", () => {
    const order = ["unique_name", "upn", "preferred_username"];
    expect(userNameFromClaims(entraV2().claims, order)).toBe("bob@contoso.com");
    expect(userNameFromClaims({ upn: "u@x.example", preferred_username: "p@x.example" }, order)).toBe(
      "u@x.example",
    );
    expect(userNameFromClaims({ unique_name: "", upn: 5, preferred_username: "p@x.example" }, order)).toBe(
      "p@x.example",
    );
  });

  it("refuses a token without any user claim", () => {
    expect(() => userNameFromClaims(entraV2().claims)).toThrow(
      expect.objectContaining({ reason: "user_claim_missing" }),
    );
  });

  it("refuses a name too long for the stored subject", () => {
    const address = (length: number) => `${"a".repeat(length - "@example.com".length)}@example.com`;
    expect(() => userNameFromClaims({ unique_name: address(251) })).toThrow(
      expect.objectContaining({ reason: "user_claim_invalid" }),
    );
    expect(userSubject(userNameFromClaims({ unique_name: address(250) }))).toHaveLength(255);
  });

  it("gives subjects that replace only the first @ and keep everything else", () => {
    const countAt = (s: string) => s.split("@").length - 1;
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 100 }), (name) => {
        const subject = userSubject(name);
        expect(subject.startsWith("user:")).toBe(true);
        expect(subject.length).toBe(name.length + 5);
        expect(countAt(subject)).toBe(Math.max(0, countAt(name) - 1));
      }),
    );
    // An address claim reaches the subject unchanged but for its one `@`.
    fc.assert(
      fc.property(fc.emailAddress(), (address) => {
        const subject = userSubject(userNameFromClaims({ unique_name: address }));
        expect(subject).toBe(`user:${address.replace("@", "_")}`);
        expect(countAt(subject)).toBe(0);
      }),
    );
  });
});
