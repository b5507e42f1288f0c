import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decide } from "../../src/core/decision.js";
import { analyzeOperation, type OperationType } from "../../src/core/operation.js";
import { snapshotOf } from "./fixtures.js";

const numRuns = Number(process.env.FC_NUM_RUNS ?? 1000);

// ---- A model of GraphQL documents, rendered to text; the model says which root fields the text selects. ----

type Item =
  | {
      readonly kind: "field";
      readonly name: string;
      readonly alias: string | undefined;
      readonly sub: boolean;
    }
  | { readonly kind: "inline"; readonly typed: boolean; readonly items: readonly Item[] }
  | { readonly kind: "spread"; readonly target: number };

interface DocModel {
  readonly type: OperationType;
  readonly root: readonly Item[];
  /** Fragment i may spread only fragments after it, so the model has no cycles. */
  readonly fragments: readonly (readonly Item[])[];
  readonly fragmentsFirst: boolean;
  /** Another named operation in the document, selected against by operationName. */
  readonly decoy: readonly Item[] | undefined;
}

const FIELDS = ["f0", "f1", "f2", "f3", "f4", "f5", "__typename", "__schema", "__type"] as const;
const META: ReadonlySet<string> = new Set(["__typename", "__schema", "__type"]);
const ALIASES = ["f0", "f1", "alias", "x"] as const;

const { item } = fc.letrec<{ item: Item }>((tie) => ({
  item: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.record({
      kind: fc.constant("field" as const),
      name: fc.constantFrom(...FIELDS),
      alias: fc.option(fc.constantFrom(...ALIASES), { nil: undefined }),
      sub: fc.boolean(),
    }),
    fc.record({ kind: fc.constant("spread" as const), target: fc.nat(20) }),
    fc.record({
      kind: fc.constant("inline" as const),
      typed: fc.boolean(),
      items: fc.array(tie("item"), { minLength: 1, maxLength: 4 }),
    }),
  ),
}));

const items = fc.array(item, { minLength: 1, maxLength: 5 });

const docModel = (types: readonly OperationType[]): fc.Arbitrary<DocModel> =>
  fc.record({
    type: fc.constantFrom(...types),
    root: items,
    fragments: fc.array(items, { maxLength: 4 }),
    fragmentsFirst: fc.boolean(),
    decoy: fc.option(items, { nil: undefined }),
  });

// A spread in fragment `from` (-1: the operation) resolves to a later fragment, or to none.
function spreadTarget(from: number, target: number, count: number): number | undefined {
  const first = from + 1;
  if (first >= count) return undefined;
  return first + (target % (count - first));
}

function render(list: readonly Item[], from: number, count: number): string {
  return list
    .map((entry) => {
      switch (entry.kind) {
        case "field": {
          const alias = entry.alias === undefined || META.has(entry.name) ? "" : `${entry.alias}: `;
          const sub = entry.sub && !META.has(entry.name) ? " { id nested { f0 } }" : "";
          return `${alias}${entry.name}${sub}`;
        }
        case "inline":
          return `... ${entry.typed ? "on query_root " : ""}{ ${render(entry.items, from, count)} }`;
        case "spread": {
          const target = spreadTarget(from, entry.target, count);
          // No fragment to spread: select __typename instead, which the model counts the same way.
          return target === undefined ? "__typename" : `...F${target}`;
        }
      }
    })
    .join(" ");
}

function collect(list: readonly Item[], from: number, model: DocModel, into: Set<string>): Set<string> {
  for (const entry of list) {
    if (entry.kind === "field") into.add(entry.name);
    else if (entry.kind === "inline") collect(entry.items, from, model, into);
    else {
      const target = spreadTarget(from, entry.target, model.fragments.length);
      if (target === undefined) into.add("__typename");
      else collect(model.fragments[target] ?? [], target, model, into);
    }
  }
  return into;
}

function renderDocument(model: DocModel): { query: string; operationName: string | undefined } {
  const count = model.fragments.length;
  const fragments = model.fragments.map(
    (body, i) => `fragment F${i} on query_root { ${render(body, i, count)} }`,
  );
  const name = model.decoy ? "Main" : undefined;
  const main = `${model.type}${name ? ` ${name}` : ""} { ${render(model.root, -1, count)} }`;
  const operations = model.decoy ? [main, `query Decoy { ${render(model.decoy, -1, count)} }`] : [main];
  const parts = model.fragmentsFirst ? [...fragments, ...operations] : [...operations, ...fragments];
  return { query: parts.join("\n"), operationName: name };
}

/** The root fields the model places in its selected operation. */
function expectedFields(model: DocModel): Set<string> {
  return collect(model.root, -1, model, new Set());
}

describe("analyzeOperation on generated documents", () => {
  it("collects exactly the root fields the document selects, whatever the aliases and fragments", () => {
    fc.assert(
      fc.property(docModel(["query", "mutation", "subscription"]), (model) => {
        const { query, operationName } = renderDocument(model);
        const operation = analyzeOperation(query, operationName);
        expect(operation.type).toBe(model.type);
        expect(new Set(operation.rootFields)).toEqual(expectedFields(model));
        expect(operation.rootFields).toHaveLength(new Set(operation.rootFields).size);
      }),
      { numRuns },
    );
  });
});

// ---- The decision invariant over random snapshots, role sets and documents. ----

const ROLES = ["r0", "r1", "r2", "r3", "r4"] as const;
const DATA_FIELDS = FIELDS.filter((field) => !META.has(field));

const scenario = fc.record({
  mapping: fc.array(fc.subarray([...DATA_FIELDS]), { minLength: ROLES.length, maxLength: ROLES.length }),
  held: fc.subarray([...ROLES]),
  batch: fc.option(
    fc.array(docModel(["query", "mutation", "subscription"]), { minLength: 1, maxLength: 3 }),
    {
      nil: null,
    },
  ),
  requested: fc.option(fc.constantFrom(...ROLES, "unknown"), { nil: undefined }),
  allowIntrospection: fc.boolean(),
});

describe("decide on generated scenarios", () => {
  it("allows only a held role mapped to every data root field of every operation, never a mutation", () => {
    fc.assert(
      fc.property(scenario, ({ mapping, held, batch, requested, allowIntrospection }) => {
        const snapshot = snapshotOf(Object.fromEntries(ROLES.map((role, i) => [role, mapping[i] ?? []])));
        const heldRoles: ReadonlySet<string> = new Set<string>(held);
        const operations =
          batch?.map((model) => {
            const { query, operationName } = renderDocument(model);
            return analyzeOperation(query, operationName);
          }) ?? null;
        const decision = decide(
          { heldRoles, operations, requestedRole: requested, allowIntrospection },
          snapshot,
        );
        const fieldSets = batch?.map(expectedFields) ?? [];
        const dataFields = fieldSets.flatMap((set) => [...set].filter((field) => !META.has(field)));
        const mutation = batch?.some((model) => model.type === "mutation") ?? false;
        const introspects = fieldSets.some((set) => set.has("__schema") || set.has("__type"));
        const fits = (role: string) => dataFields.every((field) => snapshot.rolesForField(field).has(role));

        if (decision.allowed) {
          const role = decision.role as string;
          expect(heldRoles.has(role)).toBe(true);
          expect(mutation).toBe(false);
          if (!allowIntrospection) expect(introspects).toBe(false);
          expect(fits(role)).toBe(true);
          if (requested !== undefined) expect(role).toBe(requested);
          if (batch === null && requested === undefined) expect(heldRoles.size).toBe(1);
        } else if (batch !== null && !mutation && (allowIntrospection || !introspects)) {
          // Denied although nothing forbids the operation: then no held role (or not the asked one) fits.
          const eligible =
            requested === undefined ? [...heldRoles] : [...heldRoles].filter((r) => r === requested);
          expect(eligible.filter(fits)).toEqual([]);
        }
        if (decision.allowed && requested === undefined && batch !== null) {
          // Deterministic: the smallest fitting held role.
          expect(decision.role).toBe([...heldRoles].filter(fits).sort()[0]);
        }
      }),
      { numRuns },
    );
  });
});
