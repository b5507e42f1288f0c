import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { combinedRoleName, smallestCover } from "../../src/core/role-cover.js";
import type { Snapshot } from "../../src/core/snapshot.js";
import { snapshotOf } from "./fixtures.js";

const snapshot = snapshotOf({
  r_orders: ["orders", "orders_aggregate"],
  r_customers: ["customers"],
  r_both: ["orders", "customers"],
  a_ship: ["shipments"],
  z_ship: ["shipments"],
  r_returns: ["returns"],
  r_wide: ["customers", "shipments", "returns"],
});

const rows: {
  name: string;
  held: string[];
  fields: string[];
  max?: number;
  expected: string[] | undefined;
}[] = [
  {
    name: "two ports, one role each",
    held: ["r_orders", "r_customers"],
    fields: ["orders", "customers"],
    expected: ["r_customers", "r_orders"],
  },
  {
    name: "ties broken by sorted role ids",
    held: ["r_orders", "z_ship", "a_ship"],
    fields: ["orders", "shipments"],
    expected: ["a_ship", "r_orders"],
  },
  {
    name: "the smallest set, not the first roles found",
    held: ["r_customers", "a_ship", "r_returns", "r_orders", "r_wide"],
    fields: ["orders", "customers", "shipments", "returns"],
    expected: ["r_orders", "r_wide"],
  },
  {
    name: "a held role mapping none of the fields is never a parent",
    held: ["r_orders", "r_customers", "r_returns"],
    fields: ["orders", "customers"],
    expected: ["r_customers", "r_orders"],
  },
  {
    name: "a field no held role maps: no cover",
    held: ["r_orders", "r_customers"],
    fields: ["orders", "shipments"],
    expected: undefined,
  },
  {
    name: "more parents needed than allowed: no cover",
    held: ["r_orders", "r_customers", "a_ship"],
    fields: ["orders", "customers", "shipments"],
    max: 2,
    expected: undefined,
  },
  {
    name: "exactly the limit",
    held: ["r_orders", "r_customers", "a_ship"],
    fields: ["orders", "customers", "shipments"],
    max: 3,
    expected: ["a_ship", "r_customers", "r_orders"],
  },
  { name: "no fields: no cover", held: ["r_orders"], fields: [], expected: undefined },
];

describe("smallestCover", () => {
  it.each(rows)("$name", ({ held, fields, max, expected }) => {
    expect(smallestCover(new Set(held), fields, snapshot, max ?? 8)).toEqual(expected);
  });

  it("never picks a reserved role, even one indexed by mistake", () => {
    const reservedAware = snapshotOf({ r_orders: ["orders"], r_customers: ["customers"] });
    expect(smallestCover(new Set(["admin", "r_orders"]), ["orders", "customers"], reservedAware, 8)).toBe(
      undefined,
    );
  });
});

describe("combinedRoleName", () => {
  it("is the prefix and 32 hex digits of the sorted parents, whatever their order", () => {
    const name = combinedRoleName("rolemapper_combined_", ["r_orders", "r_customers"]);
    expect(name).toMatch(/^rolemapper_combined_[0-9a-f]{32}$/);
    expect(combinedRoleName("rolemapper_combined_", ["r_customers", "r_orders"])).toBe(name);
    expect(combinedRoleName("rolemapper_combined_", ["r_customers", "r_ordersx"])).not.toBe(name);
    // JSON keeps ["a,b"] apart from ["a","b"].
    expect(combinedRoleName("p_", ["a,b"])).not.toBe(combinedRoleName("p_", ["a", "b"]));
  });
});

// Random mappings of up to 9 roles over 6 fields; the cover is checked against a brute-force enumeration.
const FIELDS = ["f0", "f1", "f2", "f3", "f4", "f5"];
const mapping = fc.dictionary(
  fc.constantFrom("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8"),
  fc.subarray(FIELDS, { minLength: 1 }),
  { minKeys: 1 },
);

function bruteForce(snap: Snapshot, held: string[], fields: string[], max: number): string[] | undefined {
  const sorted = [...held].sort();
  for (let size = 1; size <= Math.min(max, sorted.length); size++) {
    let found: string[] | undefined;
    const pick = (from: number, chosen: string[]): void => {
      if (found) return;
      if (chosen.length === size) {
        const covers = fields.every((f) => chosen.some((r) => snap.rolesForField(f).has(r)));
        if (covers) found = [...chosen];
        return;
      }
      for (let i = from; i < sorted.length; i++) pick(i + 1, [...chosen, sorted[i]!]);
    };
    pick(0, []);
    if (found) return found;
  }
  return undefined;
}

describe("smallestCover, property", () => {
  it("covers, is of minimum size, first by sorted ids, deterministic and within the limit", () => {
    fc.assert(
      fc.property(
        mapping,
        fc.subarray(FIELDS, { minLength: 1 }),
        fc.integer({ min: 1, max: 8 }),
        (roles, fields, max) => {
          const snap = snapshotOf(roles);
          const held = Object.keys(roles);
          const cover = smallestCover(new Set(held), fields, snap, max);
          expect(cover).toEqual(bruteForce(snap, held, fields, max));
          expect(smallestCover(new Set([...held].reverse()), [...fields].reverse(), snap, max)).toEqual(
            cover,
          );
          if (cover === undefined) return;
          expect(cover.length).toBeLessThanOrEqual(max);
          expect([...cover].sort()).toEqual(cover);
          for (const field of fields) expect(cover.some((r) => snap.rolesForField(field).has(r))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
