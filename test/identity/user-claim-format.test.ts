import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { UnauthenticatedError } from "../../src/core/errors.js";
import { userSubject } from "../../src/core/subjects.js";
import { isEmailAddress, type UserClaimFormat } from "../../src/identity/user-claim-format.js";
import { userNameFromClaims } from "../../src/identity/user-claim.js";

/** The reason a claim is refused under `format`, or "accepted". */
function verdict(name: string, format: UserClaimFormat): string {
  try {
    userNameFromClaims({ unique_name: name }, ["unique_name"], format);
    return "accepted";
  } catch (error) {
    if (!(error instanceof UnauthenticatedError)) throw error;
    return error.reason;
  }
}

const accepted = (format: UserClaimFormat) => (name: string) => verdict(name, format) === "accepted";

describe("USER_CLAIM_FORMAT=email (the default)", () => {
  it.each([
    ["alice@example.com", "accepted"],
    ["Alice.Smith@Corp.COM", "accepted"],
    ["bob_x@example.com", "accepted"],
    ["a+tag@sub.example.co.uk", "accepted"],
    ["live.com#alice@outlook.com", "accepted"],
    ["alice_contoso.com#EXT#@fabrikam.onmicrosoft.com", "accepted"],
    ["jörg@bücher.de", "accepted"],
    // The attack: an editable claim spelling bob@example.com's subject.
    ["bob_example.com", "user_claim_not_email"],
    ["alice", "user_claim_not_email"],
    ["alice@", "user_claim_not_email"],
    ["@example.com", "user_claim_not_email"],
    ["alice@localhost", "user_claim_not_email"],
    ["a@b@example.com", "user_claim_not_email"],
    ["bob@example_com.net", "user_claim_not_email"],
    ["bob@exa_mple.com", "user_claim_not_email"],
    ["bob @example.com", "user_claim_not_email"],
    ["bob@example.com ", "user_claim_not_email"],
    ["bob@-example.com", "user_claim_not_email"],
    ["bob@example..com", "user_claim_not_email"],
    ["bob@example.com.", "user_claim_not_email"],
    ["bob\u0000@example.com", "user_claim_not_email"],
  ])("%s → %s", (name, expected) => {
    expect(verdict(name, "email")).toBe(expected);
    if (expected === "accepted") expect(isEmailAddress(name)).toBe(true);
  });

  it("is the default of userNameFromClaims", () => {
    expect(() => userNameFromClaims({ unique_name: "bob_example.com" })).toThrow(
      expect.objectContaining({ reason: "user_claim_not_email" }),
    );
  });

  it("refuses the first claim that misfits instead of trying the next one", () => {
    const claims = { unique_name: "bob_example.com", upn: "bob@example.com" };
    expect(() => userNameFromClaims(claims, ["unique_name", "upn"], "email")).toThrow(
      expect.objectContaining({ reason: "user_claim_not_email" }),
    );
  });
});

describe("USER_CLAIM_FORMAT=any (chosen for user names such as Keycloak's or Okta's sub)", () => {
  it.each([
    ["alice", "accepted"],
    ["john_doe", "accepted"],
    ["first.last_team", "accepted"],
    ["service-principal", "accepted"],
    ["auth0|64f0c0ffee", "accepted"],
    ["00u1abcd2EFGH3ij4x5", "accepted"],
    ["8f3d2b1a-4c5e-4f6a-9b8c-7d6e5f4a3b2c", "accepted"],
    ["bob@example.com", "user_claim_has_at"],
    ["a@b", "user_claim_has_at"],
    ["@", "user_claim_has_at"],
    // Names that would take an address's subject, and so its grants.
    ["bob_example.com", "user_claim_like_email"],
    ["john_doe.jr", "user_claim_like_email"],
    ["a_b_example.co.uk", "user_claim_like_email"],
  ])("%s → %s", (name, expected) => {
    expect(verdict(name, "any")).toBe(expected);
  });
});

// Small alphabets make subjects meet often, which is what the properties need; the candidates hold `_` and `@`
// where an address may not, so that the checker, not the generator, decides what is an address.
const piece = (units: string[], maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...units), minLength: 1, maxLength });
const DOMAIN = fc
  .array(piece(["a", "b", "1", "-", "_"], 4), { minLength: 1, maxLength: 3 })
  .map((labels) => labels.join("."));
const ADDRESS = fc
  .oneof(
    fc.emailAddress(),
    fc.tuple(piece(["a", "b", "_", ".", "-", "@"], 6), DOMAIN).map(([local, domain]) => `${local}@${domain}`),
  )
  .filter(accepted("email"));
const NAME = fc
  .oneof(fc.string({ minLength: 1, maxLength: 30 }), piece(["a", "b", "_", ".", "-", "1"], 10))
  .filter(accepted("any"));

describe("subjects name one person each", () => {
  it("under email, the subject gives the address back (the last _ is the @): the mapping is injective", () => {
    fc.assert(
      fc.property(ADDRESS, (address) => {
        const body = userSubject(address).slice("user:".length);
        const last = body.lastIndexOf("_");
        expect(`${body.slice(0, last)}@${body.slice(last + 1)}`).toBe(address);
      }),
    );
    fc.assert(
      fc.property(ADDRESS, ADDRESS, (a, b) => {
        if (a !== b) expect(userSubject(a)).not.toBe(userSubject(b));
      }),
      { numRuns: 1000 },
    );
  });

  it("under any, the subject is the name itself, and never one an accepted address has", () => {
    fc.assert(
      fc.property(NAME, (name) => {
        expect(userSubject(name)).toBe(`user:${name}`);
      }),
    );
    fc.assert(
      fc.property(NAME, ADDRESS, (name, address) => {
        expect(userSubject(name)).not.toBe(userSubject(address));
      }),
      { numRuns: 1000 },
    );
    // The one name that would share an address's subject is refused.
    fc.assert(
      fc.property(ADDRESS, (address) => {
        expect(verdict(address.replace("@", "_"), "any")).toBe("user_claim_like_email");
        expect(verdict(address, "any")).toBe("user_claim_has_at");
      }),
    );
  });
});
