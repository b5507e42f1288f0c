import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import {
  analyzeOperation,
  DEFAULT_OPERATION_LIMITS,
  OperationError,
  type Operation,
  type OperationLimits,
} from "../../src/core/operation.js";
import { catchError } from "../support/catch-error.js";

interface Row {
  readonly name: string;
  readonly query: string;
  readonly operationName?: string;
  readonly expected: Partial<Operation>;
}

const analysed: Row[] = [
  {
    name: "a single field",
    query: "{ orders { id } }",
    expected: { type: "query", name: undefined, rootFields: ["orders"] },
  },
  {
    name: "a named query",
    query: "query Q { orders { id } customers { id } }",
    expected: { name: "Q", rootFields: ["orders", "customers"] },
  },
  {
    name: "an alias resolves to the real field",
    query: "{ mine: orders { id } theirs: customers { id } }",
    expected: { rootFields: ["orders", "customers"] },
  },
  {
    name: "an alias named like another field",
    query: "{ customers: orders { id } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "a field selected twice counts once",
    query: "{ a: orders { id } b: orders { id } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "nested fields are not root fields",
    query: "{ orders { customer { id } items { sku } } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "a named fragment spread at the root",
    query: "query { ...Root } fragment Root on query_root { orders { id } customers { id } }",
    expected: { rootFields: ["orders", "customers"] },
  },
  {
    name: "nested fragment spreads",
    query:
      "{ ...A } fragment A on query_root { orders { id } ...B } fragment B on query_root { x: customers { id } }",
    expected: { rootFields: ["orders", "customers"] },
  },
  {
    name: "a fragment spread repeated",
    query: "{ ...A ...A orders_aggregate { count } ...A } fragment A on query_root { orders { id } }",
    expected: { rootFields: ["orders", "orders_aggregate"] },
  },
  {
    name: "fragments defined before the operation",
    query: "fragment A on query_root { orders { id } } query Q { ...A }",
    expected: { name: "Q", rootFields: ["orders"] },
  },
  {
    name: "a fragment spread below the root adds nothing at the root",
    query: "{ orders { ...F } } fragment F on orders { customers { id } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "an inline fragment at the root",
    query: "{ ... on query_root { orders { id } } customers { id } }",
    expected: { rootFields: ["orders", "customers"] },
  },
  {
    name: "an inline fragment without a type condition",
    query: "{ ... { orders { id } } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "an inline fragment with a directive",
    query: "{ ... @include(if: true) { orders { id } } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "inline fragments nested in named fragments and back",
    query:
      "{ ... on query_root { ...A } } fragment A on query_root { ... { ... { t: orders_aggregate { count } } } }",
    expected: { rootFields: ["orders_aggregate"] },
  },
  {
    name: "a field skipped by a directive still counts (fail closed)",
    query: "{ orders @skip(if: true) { id } }",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "__typename and introspection fields are collected",
    query: "{ __typename __schema { types { name } } }",
    expected: { rootFields: ["__typename", "__schema"] },
  },
  {
    name: "a subscription",
    query: "subscription S { orders { id } }",
    expected: { type: "subscription", name: "S", rootFields: ["orders"] },
  },
  {
    name: "a mutation",
    query: "mutation { insert_orders(objects: []) { affected_rows } }",
    expected: { type: "mutation", rootFields: ["insert_orders"] },
  },
  {
    name: "operationName picks the one that would execute",
    query:
      "query A { orders { id } } query B { customers { id } } mutation C { delete_orders { affected_rows } }",
    operationName: "B",
    expected: { type: "query", name: "B", rootFields: ["customers"] },
  },
  {
    name: "operationName picks a mutation among queries",
    query: "query A { orders { id } } mutation C { delete_orders { affected_rows } }",
    operationName: "C",
    expected: { type: "mutation", rootFields: ["delete_orders"] },
  },
  {
    name: "operationName matching the only operation",
    query: "query A { orders { id } }",
    operationName: "A",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "an empty operationName means none",
    query: "query A { orders { id } }",
    operationName: "",
    expected: { rootFields: ["orders"] },
  },
  {
    name: "variables and arguments",
    query: "query ($id: Int!) { orders_by_pk(id: $id) { id } }",
    expected: { rootFields: ["orders_by_pk"] },
  },
];

const refused: { name: string; query: string; operationName?: string; message: RegExp }[] = [
  { name: "a syntax error", query: "{ orders { id }", message: /Syntax Error/ },
  { name: "an empty document", query: "", message: /Syntax Error/ },
  { name: "only fragments", query: "fragment A on query_root { orders { id } }", message: /no operation/ },
  {
    name: "several operations and no name",
    query: "query A { orders { id } } query B { customers { id } }",
    message: /operationName is required/,
  },
  {
    name: "several anonymous operations",
    query: "{ orders { id } } { customers { id } }",
    message: /This anonymous operation must be the only defined operation/,
  },
  {
    name: "an operationName not in the document",
    query: "query A { orders { id } }",
    operationName: "B",
    message: /no operation named "B"/,
  },
  { name: "an unknown fragment", query: "{ ...Missing }", message: /Unknown fragment "Missing"/ },
  {
    name: "a fragment spreading itself",
    query: "{ ...A } fragment A on query_root { orders { id } ...A }",
    message: /Cannot spread fragment "A" within itself/,
  },
  {
    name: "fragments spreading each other",
    query: "{ ...A } fragment A on query_root { ...B } fragment B on query_root { orders { id } ...A }",
    message: /Cannot spread fragment "A" within itself via "B"/,
  },
  {
    name: "a cycle reached through an inline fragment",
    query: "{ ...A } fragment A on query_root { ... on query_root { ...A } }",
    message: /Cannot spread fragment "A" within itself/,
  },
];

describe("analyzeOperation", () => {
  it.each(analysed)("$name", ({ query, operationName, expected }) => {
    expect(analyzeOperation(query, operationName)).toMatchObject(expected);
  });

  it.each(refused)(
    "refuses $name with an OperationError on the query field",
    ({ query, operationName, message }) => {
      const error = catchError(() => analyzeOperation(query, operationName));
      expect(error).toBeInstanceOf(OperationError);
      // OperationError is an InvalidArgumentError naming `query`: the transports answer it with 400.
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as OperationError).field).toBe("query");
      expect((error as Error).message).toMatch(message);
    },
  );

  describe("bounds", () => {
    const limits = (over: Partial<OperationLimits>): OperationLimits => ({
      ...DEFAULT_OPERATION_LIMITS,
      ...over,
    });

    it("accepts a query exactly at the length bound and refuses one character more", () => {
      const query = "{ orders { id } }";
      expect(analyzeOperation(query, undefined, limits({ maxQueryLength: query.length })).rootFields).toEqual(
        ["orders"],
      );
      expect(() =>
        analyzeOperation(`${query} `, undefined, limits({ maxQueryLength: query.length })),
      ).toThrow(/longer than 17 characters/);
    });

    it("refuses a document over the token limit before building it", () => {
      const query = `{ ${"orders ".repeat(200_000)} }`;
      const error = catchError(() =>
        analyzeOperation(query, undefined, limits({ maxQueryLength: 10_000_000, maxTokens: 1_000 })),
      );
      expect(error).toBeInstanceOf(OperationError);
      expect((error as Error).message).toMatch(/more tha.? 1000 tokens/);
    });

    it("counts every token: a document just under the limit parses", () => {
      // `{`, `a`, `}` are three tokens.
      expect(analyzeOperation("{ a }", undefined, limits({ maxTokens: 3 })).rootFields).toEqual(["a"]);
      expect(() => analyzeOperation("{ a b }", undefined, limits({ maxTokens: 3 }))).toThrow(OperationError);
    });

    it("refuses more root fields than the bound, counting distinct names behind aliases and fragments", () => {
      const bound = limits({ maxRootFields: 3 });
      expect(
        analyzeOperation("{ a b x: a ...F } fragment F on query_root { c b }", undefined, bound).rootFields,
      ).toEqual(["a", "b", "c"]);
      expect(() =>
        analyzeOperation("{ a b ...F } fragment F on query_root { c d }", undefined, bound),
      ).toThrow(/more than 3 root fields/);
    });

    it("refuses inline fragments nested deeper than the stack allows, as an OperationError", () => {
      const depth = 100_000;
      const query = `{${"... on query_root {".repeat(depth)} orders ${"}".repeat(depth)}}`;
      const error = catchError(() =>
        analyzeOperation(query, undefined, limits({ maxQueryLength: 10_000_000, maxTokens: 10_000_000 })),
      );
      expect(error).toBeInstanceOf(OperationError);
      expect((error as Error).message).toMatch(/nested too deeply/);
    });

    it("answers deep nesting within the default limits with a result or an OperationError, never a crash", () => {
      for (const depth of [100, 1_000, 1_999, 5_000]) {
        const query = `{${"... on query_root {".repeat(depth)} orders ${"}".repeat(depth)}}`;
        let outcome: unknown;
        try {
          outcome = analyzeOperation(query, undefined).rootFields;
        } catch (error) {
          outcome = error;
        }
        if (outcome instanceof Error) expect(outcome).toBeInstanceOf(OperationError);
        else expect(outcome).toEqual(["orders"]);
      }
    });

    it("keeps many repeated nested spreads linear: each fragment is walked once", () => {
      // Each fragment spreads the next one twice: walked naively this would be 2^40 visits.
      const count = 40;
      const fragments = Array.from({ length: count }, (_, i) =>
        i + 1 < count
          ? `fragment F${i} on query_root { f${i} ...F${i + 1} ...F${i + 1} }`
          : `fragment F${i} on query_root { f${i} }`,
      );
      const operation = analyzeOperation(`{ ...F0 } ${fragments.join(" ")}`, undefined);
      expect(operation.rootFields).toHaveLength(count);
    });
  });
});

describe("OperationCache", () => {
  it("parses a document once and answers repeats from the cache", () => {
    const cache = new OperationCache({ maxChars: 10_000 });
    const first = cache.analyze("{ orders { id } }", undefined);
    const second = cache.analyze("{ orders { id } }", undefined);
    expect(second).toEqual(first);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it("keys on the operation name too", () => {
    const cache = new OperationCache({ maxChars: 10_000 });
    const query = "query A { orders { id } } query B { customers { id } }";
    expect(cache.analyze(query, "A").rootFields).toEqual(["orders"]);
    expect(cache.analyze(query, "B").rootFields).toEqual(["customers"]);
    expect(cache.analyze(query, "A").rootFields).toEqual(["orders"]);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 2 });
  });

  it("caches a parse failure and throws it again on a repeat", () => {
    const cache = new OperationCache({ maxChars: 10_000 });
    expect(() => cache.analyze("{ broken", undefined)).toThrow(OperationError);
    expect(() => cache.analyze("{ broken", undefined)).toThrow(/Syntax Error/);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, size: 1 });
  });

  it("does not keep a document over the length bound", () => {
    const cache = new OperationCache({
      maxChars: 10_000,
      limits: { ...DEFAULT_OPERATION_LIMITS, maxQueryLength: 10 },
    });
    const long = "{ orders { id } }";
    expect(() => cache.analyze(long, undefined)).toThrow(/longer than 10/);
    expect(() => cache.analyze(long, undefined)).toThrow(/longer than 10/);
    expect(cache.stats()).toEqual({ hits: 0, misses: 2, size: 0 });
  });

  it("applies its limits to what it parses", () => {
    const cache = new OperationCache({
      maxChars: 10_000,
      limits: { ...DEFAULT_OPERATION_LIMITS, maxRootFields: 1 },
    });
    expect(() => cache.analyze("{ a b }", undefined)).toThrow(/more than 1 root fields/);
  });

  it("evicts the least recently used documents beyond its character budget", () => {
    const cache = new OperationCache({ maxChars: 40 });
    const a = "{ aaaaaaaaaaaaaaa }"; // 19 characters (+1 for the key's separator)
    const b = "{ bbbbbbbbbbbbbbb }";
    const c = "{ ccccccccccccccc }";
    cache.analyze(a, undefined);
    cache.analyze(b, undefined);
    cache.analyze(c, undefined); // a is evicted
    cache.analyze(a, undefined);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 4 });
    expect(cache.stats().size).toBeLessThanOrEqual(2);
  });
});
