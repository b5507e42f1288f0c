import fc from "fast-check";

/** Role and component ids the API fuzzers reuse, so writes meet existing rows and clash with each other. */
export const ROLE_IDS = ["role-a", "role-b", "role-c"] as const;
export const COMPONENT_IDS = ["cmp-a", "cmp-b", "cmp-c"] as const;

/** Strings that stress an identifier: empty, at and over the 255 bound, control and odd Unicode characters. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "x".repeat(255),
    "x".repeat(256),
    "é".repeat(255),
    "nul\u0000byte",
    "\ud800lone",
    "emoji-😀",
    "../etc/passwd",
    "a/b",
    "%2F",
    "'; DROP TABLE roles; --",
    "user:",
    "group:",
    "user:x\u0000",
    "\u202eright-to-left",
  ),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 10 }),
);

/** An id as a fuzzed request carries it: mostly one of the shared ids, sometimes something nasty. */
export function idFrom(pool: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...pool) }, { weight: 1, arbitrary: nastyString });
}

/** Subjects with the given prefix: valid, duplicated, unprefixed or nasty. */
export function subjectList(prefix: "user:" | "group:"): fc.Arbitrary<string[]> {
  const subject = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom("a", "b", "c", "d").map((name) => `${prefix}${name}`) },
    { weight: 1, arbitrary: nastyString },
    { weight: 1, arbitrary: nastyString.map((name) => `${prefix}${name}`) },
  );
  return fc.array(subject, { maxLength: 6 });
}

/** Any JSON value in place of a field: wrong types must be refused with the field named. */
export const wrongType: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
  fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.string({ maxLength: 4 })), { maxLength: 3 }),
);

/** A field value: usually of the right shape (`right`), sometimes missing or of the wrong type. */
export function fieldValue<T>(right: fc.Arbitrary<T>): fc.Arbitrary<T | unknown> {
  return fc.oneof(
    { weight: 6, arbitrary: right },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: wrongType },
  );
}
