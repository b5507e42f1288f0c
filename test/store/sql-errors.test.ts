import { describe, expect, it } from "vitest";
import {
  ConflictError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  UnavailableError,
} from "../../src/core/errors.js";
import { toStoreError } from "../../src/store/sql-errors.js";

const driverError = (message: string, fields: Record<string, unknown> = {}) =>
  Object.assign(new Error(message), fields);

describe("toStoreError", () => {
  it.each([
    [
      "component clash",
      driverError("dup", { code: "23505", constraint: "roles_component_id_key" }),
      ConflictError,
    ],
    ["role clash", driverError("dup", { code: "23505", constraint: "roles_pkey" }), ConflictError],
    ["role deleted meanwhile", driverError("fk", { code: "23503" }), NotFoundError],
    ["value too long", driverError("too long", { code: "22001" }), InvalidArgumentError],
    [
      "statement timeout",
      driverError("canceling statement due to statement timeout", { code: "57014" }),
      DeadlineExceededError,
    ],
    [
      "backend terminated",
      driverError("terminating connection due to administrator command", { code: "57P01" }),
      UnavailableError,
    ],
    ["connection exception", driverError("connection failure", { code: "08006" }), UnavailableError],
    [
      "refused",
      driverError("connect ECONNREFUSED 127.0.0.1:5432", { code: "ECONNREFUSED" }),
      UnavailableError,
    ],
    ["socket closed", driverError("Connection terminated unexpectedly"), UnavailableError],
    ["pool ended", driverError("Cannot use a pool after calling end on the pool"), UnavailableError],
    ["PGlite closed", driverError("PGlite is closed"), UnavailableError],
    ["deadlock after retries", driverError("deadlock detected", { code: "40P01" }), UnavailableError],
  ])("maps %s", (_case, error, expected) => {
    expect(toStoreError(error)).toBeInstanceOf(expected);
  });

  it("tells which key a unique violation clashed on", () => {
    const component = driverError("dup", { code: "23505", constraint: "roles_component_id_key" });
    expect(toStoreError(component)).toMatchObject({ kind: "component_id" });
    expect(toStoreError(driverError("dup", { code: "23505", constraint: "roles_pkey" }))).toMatchObject({
      kind: "role_id",
    });
  });

  it("keeps the core's errors and leaves unknown failures unchanged", () => {
    const core = new NotFoundError("role x not found");
    expect(toStoreError(core)).toBe(core);
    const syntax = driverError('syntax error at or near "SELEC"', { code: "42601" });
    expect(toStoreError(syntax)).toBe(syntax);
  });
});
