import fc from "fast-check";

/** Root field names the generated documents draw from: mapped ones, unmapped ones and meta fields. */
export const FIELD_POOL = [
  "orders",
  "orders_aggregate",
  "customers",
  "invoices",
  "payroll",
  "secrets",
  "sales_orders",
] as const;
const META_FIELDS = ["__typename", "__schema", "__type"] as const;
const FRAGMENT_NAMES = ["F0", "F1", "F2"] as const;
const OPERATION_NAMES = ["A", "B", "Q"] as const;
const TYPE_CONDITIONS = ["", " on Query", " on Mutation", " on Subscription", " on Unknown"] as const;

const gap = fc.constantFrom(" ", "\n", ", ", "\t", " # comment\n", "\u00a0", "\ufeff");
const fieldName = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...FIELD_POOL) },
  { weight: 1, arbitrary: fc.constantFrom(...META_FIELDS) },
);
const directive = fc.constantFrom(
  "",
  "",
  " @skip(if: true)",
  " @skip(if: false)",
  " @include(if: false)",
  " @include(if: true)",
  " @include(if: $v)",
  " @skip(if: $v)",
  " @unknown",
);
const args = fc.constantFrom(
  "",
  "",
  "(limit: 1)",
  '(where: {id: {_eq: "x"}})',
  "(a: $v)",
  "(x: {y: [1, 2]})",
);
const subselection = fc.constantFrom("", "", " { id }", " { id name { first } }", " { __typename }");

function selectionSet(depth: number): fc.Arbitrary<string> {
  const field = fc
    .tuple(
      fc.option(fc.constantFrom("a1", "b2", "orders", "customers"), { nil: undefined }),
      fieldName,
      args,
      directive,
      subselection,
    )
    .map(([alias, name, a, d, sub]) => `${alias ? `${alias}: ` : ""}${name}${a}${d}${sub}`);
  const spread = fc.tuple(fc.constantFrom(...FRAGMENT_NAMES), directive).map(([name, d]) => `...${name}${d}`);
  const choices: fc.Arbitrary<string>[] = [field, field, field, spread];
  if (depth > 0) {
    choices.push(
      fc
        .tuple(fc.constantFrom(...TYPE_CONDITIONS), directive, selectionSet(depth - 1))
        .map(([on, d, inner]) => `...${on}${d} ${inner}`),
    );
  }
  return fc
    .tuple(fc.array(fc.oneof(...choices), { minLength: 0, maxLength: 5 }), gap)
    .map(([selections, g]) => `{${g}${selections.join(g)}${g}}`);
}

const operation = fc
  .tuple(
    fc.constantFrom("", "query", "query", "mutation", "subscription"),
    fc.option(fc.constantFrom(...OPERATION_NAMES), { nil: undefined }),
    fc.boolean(),
    selectionSet(2),
  )
  .map(([type, name, withVariable, body]) => {
    if (type === "") return body;
    const variables = withVariable ? "($v: Boolean = true)" : "";
    return `${type}${name ? ` ${name}` : ""}${variables} ${body}`;
  });

const fragment = fc
  .tuple(
    fc.constantFrom(...FRAGMENT_NAMES),
    fc.constantFrom("Query", "Mutation", "Subscription"),
    selectionSet(1),
  )
  .map(([name, on, body]) => `fragment ${name} on ${on} ${body}`);

/** Well-formed-looking GraphQL documents: several operations, fragments, aliases, directives, meta fields. */
export const documentArbitrary: fc.Arbitrary<string> = fc
  .tuple(fc.array(operation, { minLength: 0, maxLength: 3 }), fc.array(fragment, { maxLength: 3 }), gap)
  .chain(([operations, fragments, g]) =>
    fc
      .shuffledSubarray([...operations, ...fragments], {
        minLength: operations.length + fragments.length,
      })
      .map((definitions) => definitions.join(g)),
  );

/** One random edit of a document: a character inserted, deleted or replaced, or a slice duplicated. */
const edit = fc.tuple(
  fc.constantFrom("insert", "delete", "replace", "duplicate"),
  fc.nat(),
  fc.oneof(
    fc.constantFrom(
      "{",
      "}",
      "(",
      ")",
      "...",
      "#",
      '"',
      '"""',
      "\\",
      "$",
      "@",
      ":",
      "mutation ",
      "\u0000",
      "\ud800",
      "é",
    ),
    fc.string({ maxLength: 3 }),
  ),
);

/** Documents, then zero to three random edits of each (most no longer parse; some parse differently). */
export const mutatedDocumentArbitrary: fc.Arbitrary<string> = fc
  .tuple(documentArbitrary, fc.array(edit, { maxLength: 3 }))
  .map(([document, edits]) => {
    let text = document;
    for (const [kind, at, piece] of edits) {
      const i = text.length === 0 ? 0 : at % text.length;
      if (kind === "insert") text = text.slice(0, i) + piece + text.slice(i);
      else if (kind === "delete") text = text.slice(0, i) + text.slice(i + 1 + (at % 4));
      else if (kind === "replace") text = text.slice(0, i) + piece + text.slice(i + piece.length);
      else text = text.slice(0, i) + text.slice(i, i + (at % 16)) + text.slice(i);
    }
    return text;
  });

/** An operation name as a client may send it: absent, one the documents use, or anything. */
export const operationNameArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 4, arbitrary: fc.constantFrom(...OPERATION_NAMES) },
  { weight: 1, arbitrary: fc.constantFrom(null, "", "F0", "Nope") },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.object()) },
);

/** Variables: mostly the `$v` the documents declare, sometimes junk. */
export const variablesArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.record({ v: fc.boolean() }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
