import {
  ExecutableDefinitionsRule,
  GraphQLObjectType,
  GraphQLSchema,
  GraphQLString,
  KnownFragmentNamesRule,
  LoneAnonymousOperationRule,
  NoFragmentCyclesRule,
  NoUndefinedVariablesRule,
  UniqueArgumentNamesRule,
  UniqueFragmentNamesRule,
  UniqueInputFieldNamesRule,
  UniqueOperationNamesRule,
  UniqueVariableNamesRule,
  execute,
  parse,
  validate,
  type GraphQLFieldConfigMap,
} from "graphql";

// The GraphQL spec's rules that judge a document without a schema (Hasura does not enforce "fragments must be
// used" nor "all variables used", so neither is here): a document breaking one is never to be answered 200.
const SCHEMA_FREE_SPEC_RULES = [
  ExecutableDefinitionsRule,
  UniqueOperationNamesRule,
  LoneAnonymousOperationRule,
  UniqueFragmentNamesRule,
  KnownFragmentNamesRule,
  NoFragmentCyclesRule,
  UniqueVariableNamesRule,
  NoUndefinedVariablesRule,
  UniqueArgumentNamesRule,
  UniqueInputFieldNamesRule,
];
import type { MappingService } from "../../../src/core/mapping-service.js";

/** The stored mapping read back through the API: each role's root fields, each subject's roles. */
export interface MappingView {
  readonly rootFieldsOf: ReadonlyMap<string, ReadonlySet<string>>;
  readonly rolesOfSubject: ReadonlyMap<string, ReadonlySet<string>>;
  /** A canonical string of everything stored, for "unchanged" comparisons. */
  readonly fingerprint: string;
}

/** Reads every role and grant through the mapping service (not through the snapshot the webhook decides with). */
export async function readMapping(service: MappingService): Promise<MappingView> {
  const rootFieldsOf = new Map<string, Set<string>>();
  const rolesOfSubject = new Map<string, Set<string>>();
  const lines: string[] = [];
  let token = "";
  do {
    const page = await service.listRoles(1000, token);
    for (const role of page.roles) {
      rootFieldsOf.set(role.roleId, new Set(role.rootFields));
      const grants = await service.getRoleGrants(role.roleId);
      const subjects = [...grants.users, ...grants.groups].sort();
      for (const subject of subjects) {
        const held = rolesOfSubject.get(subject) ?? new Set<string>();
        held.add(role.roleId);
        rolesOfSubject.set(subject, held);
      }
      lines.push(JSON.stringify([role.roleId, role.componentId, [...role.rootFields].sort(), subjects]));
    }
    token = page.nextPageToken;
  } while (token !== "");
  return { rootFieldsOf, rolesOfSubject, fingerprint: lines.join("\n") };
}

/** Role ids the webhook never answers, whatever the store holds: Hasura's superuser (issue 12). */
export const RESERVED_ROLES: ReadonlySet<string> = new Set(["admin"]);

/** The roles a user and its groups hold, from the view, that the webhook may answer (reserved ones left out). */
export function heldRoles(view: MappingView, user: string, groups: readonly string[]): Set<string> {
  const held = new Set<string>();
  for (const subject of [user, ...groups])
    for (const role of view.rolesOfSubject.get(subject) ?? []) if (!RESERVED_ROLES.has(role)) held.add(role);
  return held;
}

/**
 * What a GraphQL server would actually run: a schema whose Query, Mutation and Subscription types have every
 * field of `fieldNames` (as String), executed by graphql-js with resolvers that record the root fields they
 * resolved. Independent of the sidecar's own document analysis, so it can check it.
 */
export class ExecutionOracle {
  private readonly schema: GraphQLSchema;
  private recorded: Set<string> = new Set();

  constructor(fieldNames: readonly string[]) {
    const fields = (): GraphQLFieldConfigMap<unknown, unknown> =>
      Object.fromEntries(
        fieldNames.map((name) => [
          name,
          {
            type: GraphQLString,
            resolve: () => {
              this.recorded.add(name);
              return "x";
            },
          },
        ]),
      );
    this.schema = new GraphQLSchema({
      query: new GraphQLObjectType({ name: "Query", fields }),
      mutation: new GraphQLObjectType({ name: "Mutation", fields }),
      subscription: new GraphQLObjectType({ name: "Subscription", fields }),
    });
  }

  /**
   * Whether `query` parses and breaks one of the spec's schema-free validation rules, checked against this
   * oracle's own schema. Such a document must never be decided, whichever of its definitions a server would take.
   */
  breaksSchemaFreeRules(query: string): boolean {
    let document;
    try {
      document = parse(query, { noLocation: true });
    } catch {
      return false;
    }
    return validate(this.schema, document, SCHEMA_FREE_SPEC_RULES).length > 0;
  }

  /**
   * The root fields that executing `query` would resolve, and the type of the operation that ran; undefined when
   * nothing would run (the document does not parse or names no executable operation).
   */
  run(
    query: string,
    operationName: string | undefined,
    variables: Record<string, unknown> | undefined,
  ): { type: string; fields: Set<string> } | undefined {
    let document;
    try {
      document = parse(query, { noLocation: true });
    } catch {
      return undefined;
    }
    this.recorded = new Set();
    let type: string | undefined;
    try {
      const result = execute({
        schema: this.schema,
        document,
        operationName,
        variableValues: variables,
        rootValue: {},
      });
      if (result instanceof Promise) throw new Error("resolvers are synchronous");
      const operation = document.definitions.find(
        (definition) =>
          definition.kind === "OperationDefinition" &&
          (operationName === undefined || definition.name?.value === operationName),
      );
      if (operation && operation.kind === "OperationDefinition") type = operation.operation;
    } catch {
      // A document graphql-js refuses to run may still have resolved fields before failing: keep them.
    }
    return { type: type ?? "query", fields: this.recorded };
  }
}
