import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { requireId, requireIdList } from "../../src/core/validation.js";

function failure(run: () => unknown): InvalidArgumentError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidArgumentError);
    return error as InvalidArgumentError;
  }
  throw new Error("expected an InvalidArgumentError");
}

describe("requireId", () => {
  it("returns a valid id unchanged, up to 255 characters", () => {
    expect(requireId("role_id", "r1")).toBe("r1");
    expect(requireId("role_id", "x".repeat(255))).toHaveLength(255);
  });

  it.each([
    { value: undefined, message: /expected a string/ },
    { value: 42, message: /expected a string/ },
    { value: null, message: /expected a string/ },
    { value: "", message: /must not be empty/ },
    { value: "x".repeat(256), message: /at most 255 characters \(got 256\)/ },
  ])("refuses $value naming the field", ({ value, message }) => {
    const error = failure(() => requireId("component_id", value));
    expect(error.field).toBe("component_id");
    expect(error.message).toMatch(/^component_id: /);
    expect(error.message).toMatch(message);
  });
});

describe("requireIdList", () => {
  it("returns the list, checking the prefix", () => {
    expect(requireIdList("users", ["user:a", "user:b"], 10, "user:")).toEqual(["user:a", "user:b"]);
    expect(requireIdList("graphql_root_field_names", [], 10)).toEqual([]);
  });

  it.each([
    { value: "user:a", field: "users", message: /expected a list of strings/ },
    { value: { 0: "user:a" }, field: "users", message: /expected a list/ },
    { value: ["user:a", "user:b", "user:c"], field: "users", message: /at most 2 entries allowed \(got 3\)/ },
    { value: ["user:a", 7], field: "users[1]", message: /expected a string/ },
    { value: ["user:a", ""], field: "users[1]", message: /must not be empty/ },
    { value: ["group:a"], field: "users[0]", message: /must start with "user:"/ },
    { value: ["user:"], field: "users[0]", message: /followed by a name/ },
    { value: ["user:a", "user:a"], field: "users[1]", message: /duplicate entry "user:a"/ },
  ])("refuses $value naming $field", ({ value, field, message }) => {
    const error = failure(() => requireIdList("users", value, 2, "user:"));
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
  });
});
