import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UnauthenticatedError } from "../../src/core/errors.js";
import { userSubject } from "../../src/core/subjects.js";
import { createJwtVerifier } from "../../src/identity/jwt-verifier.js";
import { createRemoteKeySet } from "../../src/identity/remote-key-set.js";
import { hasGroupsOverage } from "../../src/identity/graph-groups.js";
import { userNameFromClaims } from "../../src/identity/user-claim.js";
import { ENTRA_TENANT, entraV1, entraV2, freshClaims } from "../support/fixtures/entra/index.js";
import type { EntraTokenFixture } from "../support/fixtures/entra/index.js";
import { JwksIssuer } from "../support/jwks-issuer.js";

let issuer: JwksIssuer;
beforeAll(async () => {
  issuer = await JwksIssuer.start();
  // Publish keys under the fixtures' own kids, as Entra's key set would.
  await issuer.addKey("RS256", entraV1().header.kid, false);
  await issuer.addKey("RS256", entraV2().header.kid, false);
});
afterAll(() => issuer.close());

const sign = (fixture: EntraTokenFixture, claims: Record<string, unknown> = {}) =>
  issuer.sign(
    { ...freshClaims(fixture), ...claims },
    { kid: fixture.header.kid, bare: true, header: fixture.header.x5t ? { x5t: fixture.header.x5t } : {} },
  );

const verifier = () =>
  createJwtVerifier({
    keys: createRemoteKeySet({ url: issuer.jwksUrl }),
    audience: ["api://6e74172b-be56-4843-9ff4-e66a39bb12e3", "6e74172b-be56-4843-9ff4-e66a39bb12e3"],
    azureTenantId: ENTRA_TENANT,
  });

describe("Entra ID access tokens", () => {
  it("accepts a v1 token and names its user from unique_name", async () => {
    const { claims } = await verifier().verify(await sign(entraV1()));
    expect(userSubject(userNameFromClaims(claims))).toBe("user:alice_contoso.com");
    expect(hasGroupsOverage(claims)).toBe(false);
  });

  it("accepts a v2 token, named from preferred_username, and sees its groups overage", async () => {
    const { claims } = await verifier().verify(await sign(entraV2()));
    expect(userNameFromClaims(claims, ["unique_name", "upn", "preferred_username"])).toBe("bob@contoso.com");
    expect(hasGroupsOverage(claims)).toBe(true);
  });

  it("refuses the same token shape from another tenant", async () => {
    const other = "0f0f0f0f-1111-4222-8333-444444444444";
    const token = await sign(entraV1(), { tid: other, iss: `https://sts.windows.net/${other}/` });
    const error = await verifier()
      .verify(token)
      .catch((e: unknown) => e);
    expect((error as UnauthenticatedError).reason).toBe("token_bad_tenant");
  });
});
