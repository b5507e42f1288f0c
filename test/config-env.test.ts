import { describe, expect, it } from "vitest";
import { EnvReader } from "../src/config/env-reader.js";

// JWT_AUDIENCE, JWT_ISSUER and USER_CLAIM: one value, or a JSON list of them.
describe("string-or-list variables", () => {
  it.each([
    ["api://x", ["api://x"]],
    ["  api://x ", ["api://x"]],
    ['["a","b"]', ["a", "b"]],
  ])("parses %s", (raw, expected) => {
    const env = new EnvReader({ JWT_AUDIENCE: raw });
    expect(env.stringOrList("JWT_AUDIENCE")).toEqual(expected);
    expect(env.problems).toEqual([]);
  });

  it.each(["[", "[]", '["a", ""]', "[1]"])("refuses %j", (raw) => {
    const env = new EnvReader({ JWT_AUDIENCE: raw });
    env.stringOrList("JWT_AUDIENCE");
    expect(env.problems).not.toEqual([]);
    for (const problem of env.problems) expect(problem).toMatch(/^JWT_AUDIENCE: /);
  });

  it.each(["", "   "])("reads %j as unset", (raw) => {
    const env = new EnvReader({ JWT_AUDIENCE: raw });
    expect(env.stringOrList("JWT_AUDIENCE")).toBeUndefined();
    expect(env.problems).toEqual([]);
  });
});
