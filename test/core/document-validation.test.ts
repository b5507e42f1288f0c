import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { firstViolation, SCHEMA_FREE_RULES } from "../../src/core/document-validation.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { analyzeOperation, OperationError } from "../../src/core/operation.js";
import { catchError } from "../support/catch-error.js";

// Each schema-free rule of the GraphQL spec, with a document that breaks it and graphql-js's message for it.
const refused: { rule: string; query: string; operationName?: string; message: string }[] = [
  {
    rule: "Fragment Name Uniqueness (the attack: decided on the last F, executed on either)",
    query:
      "query { ...F } fragment F on query_root { secret { id } } fragment F on query_root { open { id } }",
    message: 'There can be only one fragment named "F".',
  },
  {
    rule: "Operation Name Uniqueness (operationName would pick one of two)",
    query: "query A { open { id } } query A { secret { id } }",
    operationName: "A",
    message: 'There can be only one operation named "A".',
  },
  {
    rule: "Lone Anonymous Operation",
    query: "{ open { id } } query B { secret { id } }",
    operationName: "B",
    message: "This anonymous operation must be the only defined operation.",
  },
  {
    rule: "Fragment Spread Target Defined",
    query: "{ open { id } ...Missing }",
    message: 'Unknown fragment "Missing".',
  },
  {
    rule: "Fragment Spreads Must Not Form Cycles",
    query: "{ ...A } fragment A on query_root { open { id } ...B } fragment B on query_root { ...A }",
    message: 'Cannot spread fragment "A" within itself via "B".',
  },
  {
    rule: "Executable Definitions",
    query: "type T { a: Int } { open { id } }",
    message: 'The "T" definition is not executable.',
  },
  {
    rule: "Variable Uniqueness",
    query: "query ($v: Int, $v: String) { open(limit: $v) { id } }",
    message: 'There can be only one variable named "$v".',
  },
  {
    rule: "All Variable Uses Defined",
    query: "query Q { open(limit: $v) { id } }",
    message: 'Variable "$v" is not defined by operation "Q".',
  },
  {
    rule: "Argument Uniqueness",
    query: "{ open(limit: 1, limit: 2) { id } }",
    message: 'There can be only one argument named "limit".',
  },
  {
    rule: "Input Object Field Uniqueness",
    query: '{ open(where: {id: {_eq: "a"}, id: {_eq: "b"}}) { id } }',
    message: 'There can be only one input field named "id".',
  },
];

// Documents a schema-free check must let through: what they break, if anything, needs the schema (Hasura checks
// it), or is a rule Hasura does not enforce.
const accepted: { name: string; query: string }[] = [
  {
    name: "an unused fragment (Hasura runs it)",
    query: "{ open { id } } fragment U on query_root { secret }",
  },
  { name: "an unused variable (Hasura runs it)", query: "query ($v: Int) { open { id } }" },
  { name: "an unknown field, type or directive", query: "{ nope @unknown ... on Nowhere { x } }" },
  { name: "an argument of the wrong type", query: '{ open(limit: "many") { id } }' },
  { name: "a subscription of two root fields", query: "subscription { open { id } other { id } }" },
  {
    name: "fragments, variables and directives used as meant",
    query:
      "query Q($v: Boolean = true) { ...A } fragment A on query_root { open @include(if: $v) { ...B } } fragment B on open { id }",
  },
];

describe("firstViolation: the GraphQL spec's schema-free validation", () => {
  it.each(refused)("refuses a document breaking $rule", ({ query, operationName, message }) => {
    expect(firstViolation(parse(query))).toBe(message);
    // Before any operation is chosen or any role considered.
    expect(() => analyzeOperation(query, operationName)).toThrow(new OperationError(message));
  });

  it.each(accepted)("lets through $name", ({ query }) => {
    expect(firstViolation(parse(query))).toBeUndefined();
  });

  it("names one problem when a document has several", () => {
    const query = "{ ...A ...B } { open }";
    expect(firstViolation(parse(query))).toBe("This anonymous operation must be the only defined operation.");
  });

  it("runs graphql-js's rules, none that needs a schema", () => {
    expect(SCHEMA_FREE_RULES.map((rule) => rule.name)).toEqual([
      "ExecutableDefinitionsRule",
      "UniqueOperationNamesRule",
      "LoneAnonymousOperationRule",
      "UniqueFragmentNamesRule",
      "KnownFragmentNamesRule",
      "NoFragmentCyclesRule",
      "UniqueVariableNamesRule",
      "NoUndefinedVariablesRule",
      "UniqueArgumentNamesRule",
      "UniqueInputFieldNamesRule",
    ]);
  });
});

describe("OperationCache: a document is validated when first parsed, not again", () => {
  it("answers a repeated invalid document from the cache, with the same error", () => {
    const cache = new OperationCache({ maxChars: 10_000 });
    const query = refused[0]!.query;
    const first = catchError(() => cache.analyze(query, undefined));
    const second = catchError(() => cache.analyze(query, undefined));
    expect(first).toBeInstanceOf(OperationError);
    expect(second).toBe(first);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });

  it("answers a repeated valid document from the cache", () => {
    const cache = new OperationCache({ maxChars: 10_000 });
    const query = accepted[5]!.query;
    expect(cache.analyze(query, "Q").rootFields).toEqual(["open"]);
    expect(cache.analyze(query, "Q").rootFields).toEqual(["open"]);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
  });
});
