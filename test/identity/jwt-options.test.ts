import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import {
  DEFAULT_CLAIM_OPTIONS,
  parseAlgorithms,
  parseJwtOptions,
  requireStringList,
} from "../../src/identity/jwt-options.js";

describe("JWT_OPTIONS (PyJWT form)", () => {
  it("defaults to verifying everything and requiring exp", () => {
    expect(parseJwtOptions(undefined).options).toEqual(DEFAULT_CLAIM_OPTIONS);
    expect(DEFAULT_CLAIM_OPTIONS.require).toEqual(["exp"]);
  });

  it("maps the PyJWT keys", () => {
    const { options, warnings } = parseJwtOptions({
      verify_signature: true,
      verify_aud: false,
      verify_iss: false,
      verify_nbf: false,
      strict_aud: true,
      require: ["iat", "sub"],
      leeway: 10,
    });
    expect(options).toMatchObject({ verifyAud: false, verifyIss: false, verifyNbf: false, strictAud: true });
    expect(options.require).toEqual(["exp", "iat", "sub"]);
    expect(options.leewaySeconds).toBe(10);
    expect(warnings).toEqual([]);
  });

  it("keeps exp verified and required, with a warning", () => {
    const { options, warnings } = parseJwtOptions({ verify_exp: false, require: [] });
    expect(options.require).toContain("exp");
    expect(warnings[0]).toMatch(/JWT_OPTIONS.verify_exp/);
  });

  it.each([
    [[], "JWT_OPTIONS"],
    [{ verify_signature: false }, "JWT_OPTIONS.verify_signature"],
    [{ verify_aud: "yes" }, "JWT_OPTIONS.verify_aud"],
    [{ require: "exp" }, "JWT_OPTIONS.require"],
    [{ require: ["exp", 3] }, "JWT_OPTIONS.require[1]"],
    [{ leeway: -1 }, "JWT_OPTIONS.leeway"],
    [{ verify_expiry: true }, "JWT_OPTIONS.verify_expiry"],
  ])("refuses %j naming %s", (json, field) => {
    try {
      parseJwtOptions(json);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as InvalidArgumentError).field).toBe(field);
    }
  });
});

describe("JWT_ALGORITHMS", () => {
  it("accepts asymmetric algorithms and removes duplicates", () => {
    expect(parseAlgorithms(["RS256", "PS256", "ES256", "RS256"])).toEqual(["RS256", "PS256", "ES256"]);
  });

  it.each([[["none"]], [["HS256"]], [["RS256", "hs512"]], [[]], ["RS256"], [["XX1"]]])(
    "refuses %j",
    (json) => {
      expect(() => parseAlgorithms(json)).toThrow(InvalidArgumentError);
    },
  );
});

describe("JSON string lists", () => {
  it("checks JSON string lists such as AZURE_SCOPES", () => {
    expect(requireStringList("AZURE_SCOPES", ["https://graph.microsoft.com/.default"])).toHaveLength(1);
    expect(() => requireStringList("AZURE_SCOPES", "x")).toThrow(/AZURE_SCOPES/);
  });
});
