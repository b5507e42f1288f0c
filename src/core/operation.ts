import {
  GraphQLError,
  Kind,
  parse,
  type DocumentNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { firstViolation } from "./document-validation.js";
import { InvalidArgumentError } from "./errors.js";

/** The kind of a GraphQL operation. */
export type OperationType = "query" | "mutation" | "subscription";

/** What the decision needs to know of the operation that would execute. */
export interface Operation {
  readonly type: OperationType;
  /** The operation's own name, when it has one. */
  readonly name: string | undefined;
  /** Distinct root field names (aliases resolved), in document order. */
  readonly rootFields: readonly string[];
}

/** Bounds on what is parsed. */
export interface OperationLimits {
  /** Largest query text, in characters. */
  readonly maxQueryLength: number;
  /** Largest number of lexical tokens the parser reads before giving up. */
  readonly maxTokens: number;
  /** Most distinct root fields one operation may select. */
  readonly maxRootFields: number;
}

export const DEFAULT_OPERATION_LIMITS: OperationLimits = {
  maxQueryLength: 100 * 1024,
  maxTokens: 10_000,
  maxRootFields: 1_000,
};

/** The query does not parse or does not name one executable operation; answered with 400. */
export class OperationError extends InvalidArgumentError {
  constructor(message: string) {
    super("query", message);
    this.name = "OperationError";
  }
}

/**
 * Parses `query`, refuses it unless it passes the GraphQL spec's schema-free validation, and returns the operation
 * that would execute — the one named `operationName`, or the only one — with its root fields, following fragment
 * spreads and inline fragments at the root.
 */
export function analyzeOperation(
  query: string,
  operationName: string | undefined,
  limits: OperationLimits = DEFAULT_OPERATION_LIMITS,
): Operation {
  if (query.length > limits.maxQueryLength) {
    throw new OperationError(`query is longer than ${limits.maxQueryLength} characters`);
  }
  const document = parseDocument(query, limits.maxTokens);
  validateDocument(document);
  const operation = selectOperation(document, operationName);
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const fields = new Set<string>();
  try {
    collectRootFields(
      operation.selectionSet,
      fragments,
      { visiting: new Set(), done: new Set() },
      fields,
      limits.maxRootFields,
    );
  } catch (error) {
    if (error instanceof RangeError) throw new OperationError("query is nested too deeply");
    throw error;
  }
  return { type: operation.operation as OperationType, name: operation.name?.value, rootFields: [...fields] };
}

function parseDocument(query: string, maxTokens: number): DocumentNode {
  try {
    return parse(query, { noLocation: true, maxTokens });
  } catch (error) {
    if (error instanceof GraphQLError) throw new OperationError(error.message);
    // The parser recurses per nesting level: a document nested deeper than the stack allows is refused.
    if (error instanceof RangeError) throw new OperationError("query is nested too deeply");
    throw error;
  }
}

// A document no GraphQL server would run is never decided: its duplicate fragment or operation names, for one,
// leave it to each reader which definition counts.
function validateDocument(document: DocumentNode): void {
  let violation: string | undefined;
  try {
    violation = firstViolation(document);
  } catch (error) {
    // The fragment cycle rule recurses along chains of spreads.
    if (error instanceof RangeError) throw new OperationError("query is nested too deeply");
    throw error;
  }
  if (violation !== undefined) throw new OperationError(violation);
}

function selectOperation(document: DocumentNode, operationName: string | undefined): OperationDefinitionNode {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  if (operationName) {
    const named = operations.find((operation) => operation.name?.value === operationName);
    if (!named) throw new OperationError(`no operation named "${operationName}" in the document`);
    return named;
  }
  const [only, ...others] = operations;
  if (!only) throw new OperationError("the document contains no operation");
  if (others.length > 0)
    throw new OperationError("the document has several operations: operationName is required");
  return only;
}

function collectRootFields(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  walk: { visiting: Set<string>; done: Set<string> },
  into: Set<string>,
  maxFields: number,
): void {
  for (const selection of selectionSet.selections) {
    switch (selection.kind) {
      case Kind.FIELD:
        into.add(selection.name.value);
        if (into.size > maxFields) throw new OperationError(`more than ${maxFields} root fields`);
        break;
      case Kind.INLINE_FRAGMENT:
        collectRootFields(selection.selectionSet, fragments, walk, into, maxFields);
        break;
      case Kind.FRAGMENT_SPREAD: {
        const name = selection.name.value;
        // A fragment already collected adds nothing: skipping it keeps nested repeated spreads linear.
        if (walk.done.has(name)) break;
        const fragment = fragments.get(name);
        if (!fragment) throw new OperationError(`unknown fragment "${name}"`);
        // A fragment spread inside itself would never terminate; GraphQL forbids such cycles.
        if (walk.visiting.has(name)) throw new OperationError(`fragment "${name}" spreads itself`);
        walk.visiting.add(name);
        collectRootFields(fragment.selectionSet, fragments, walk, into, maxFields);
        walk.visiting.delete(name);
        walk.done.add(name);
        break;
      }
    }
  }
}
