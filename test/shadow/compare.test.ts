import { describe, expect, it } from "vitest";
import { compareAnswers, outcomeOf, roleInBody } from "../../src/shadow/compare.js";

describe("compareAnswers", () => {
  it.each([
    ["same role", { status: 200, role: "a" }, { status: 200, role: "a" }, "agree"],
    ["another role", { status: 200, role: "a" }, { status: 200, role: "b" }, "disagree"],
    ["a 200 without a role", { status: 200, role: "a" }, { status: 200, role: undefined }, "disagree"],
    ["both deny", { status: 401, role: undefined }, { status: 401, role: undefined }, "agree"],
    ["allow against deny", { status: 200, role: "a" }, { status: 401, role: undefined }, "disagree"],
    ["deny against allow", { status: 401, role: undefined }, { status: 200, role: "a" }, "disagree"],
    [
      "400 against 422: both fail the request",
      { status: 400, role: undefined },
      { status: 422, role: undefined },
      "agree",
    ],
    ["deny against 422", { status: 401, role: undefined }, { status: 422, role: undefined }, "disagree"],
    ["allow against 500", { status: 200, role: "a" }, { status: 500, role: undefined }, "disagree"],
  ] as const)("%s", (_name, self, shadow, expected) => {
    expect(compareAnswers(self, shadow)).toBe(expected);
  });

  it.each([
    [200, "allow"],
    [401, "deny"],
    [400, "other"],
    [403, "other"],
    [422, "other"],
    [500, "other"],
    [204, "other"],
  ] as const)("reads status %d as %s", (status, outcome) => {
    expect(outcomeOf(status)).toBe(outcome);
  });
});

describe("roleInBody", () => {
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));
  it.each([
    ["a 200's X-Hasura-Role", 200, body({ "X-Hasura-User-Id": "user:a", "X-Hasura-Role": "r" }), "r"],
    ["any spelling of the key", 200, body({ "x-hasura-role": "r" }), "r"],
    ["none in a 401", 401, body({ "X-Hasura-Role": "r" }), undefined],
    ["none when missing", 200, body({ "X-Hasura-User-Id": "user:a" }), undefined],
    ["none when not a string", 200, body({ "X-Hasura-Role": 3 }), undefined],
    ["none in a list", 200, body(["X-Hasura-Role"]), undefined],
    ["none in a body that is not JSON", 200, Buffer.from("<html>"), undefined],
  ] as const)("%s", (_name, status, raw, expected) => {
    expect(roleInBody(status, raw)).toBe(expected);
  });
});
