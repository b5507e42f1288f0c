import { describe, expect, it } from "vitest";
import {
  addSum,
  CHECKSUM_MODULUS,
  mappingChecksum,
  rowHash,
  subtractSum,
  type RowKind,
} from "../../src/core/checksum.js";

describe("rowHash", () => {
  // Each expected value is PostgreSQL's: SELECT hashtext(kind || chr(31) || role || chr(31) || value)::bigint & 4294967295
  it.each<[RowKind, string, string, number]>([
    ["r", "", "", 4014780206],
    ["s", "role-1", "user:alice", 2466573732],
    ["f", "sales", "sales_orders", 3468962033],
    ["s", "r", "group:Équipe ventes 😀", 2099797712],
    ["r", "aaaaaaaaa", "b", 1659004188],
    ["s", "x".repeat(100), "y".repeat(37), 5166332],
  ])("hashes %s/%j/%j as PostgreSQL's hashtext does", (kind, roleId, value, expected) => {
    expect(rowHash(kind, roleId, value)).toBe(expected);
  });
});

describe("sums modulo 2^48", () => {
  it("wraps on the way up and on the way down", () => {
    expect(addSum(CHECKSUM_MODULUS - 1, 2)).toBe(1);
    expect(subtractSum(1, 2)).toBe(CHECKSUM_MODULUS - 1);
    expect(subtractSum(addSum(123, 456), 456)).toBe(123);
  });
});

describe("mappingChecksum", () => {
  const data = {
    roles: [{ roleId: "r1", componentId: "c1", rootFields: ["a", "b"] }],
    userGrants: [{ subject: "user:u", roleId: "r1" }],
    groupGrants: [{ subject: "group:g", roleId: "r2" }],
  };

  it("sums one hash per role, root field and grant, in any order", () => {
    const expected = [
      rowHash("r", "r1", "c1"),
      rowHash("f", "r1", "a"),
      rowHash("f", "r1", "b"),
      rowHash("s", "r1", "user:u"),
      rowHash("s", "r2", "group:g"),
    ].reduce(addSum, 0);
    expect(mappingChecksum(data)).toBe(String(expected));
    expect(mappingChecksum({ ...data, roles: [{ ...data.roles[0]!, rootFields: ["b", "a"] }] })).toBe(
      String(expected),
    );
  });

  it("leaves out the rows of the roles named", () => {
    expect(mappingChecksum(data, new Set(["r1"]))).toBe(String(rowHash("s", "r2", "group:g")));
    expect(mappingChecksum({ roles: [], userGrants: [], groupGrants: [] })).toBe("0");
  });
});
