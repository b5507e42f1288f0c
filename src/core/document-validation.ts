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
  validate,
  type DocumentNode,
  type ValidationRule,
} from "graphql";

/**
 * The GraphQL spec's validation rules that need no schema (graphql-js's own implementations): each decides from
 * the document alone, so the sidecar can refuse what no GraphQL server would run before choosing a role.
 * Left out on purpose: every rule that reads types (the sidecar has no schema), and "Fragments Must Be Used" and
 * "All Variables Used", whose checks Hasura has switched off — it runs such documents, and an unused fragment or
 * variable cannot change which root fields run.
 */
export const SCHEMA_FREE_RULES: readonly ValidationRule[] = Object.freeze([
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
]);

// graphql-js's validate() takes a schema; the rules above never look at it, so a one-field placeholder does.
const PLACEHOLDER_SCHEMA = new GraphQLSchema({
  query: new GraphQLObjectType({ name: "Placeholder", fields: { placeholder: { type: GraphQLString } } }),
});

/** The first violation of the schema-free rules in `document`, or undefined when it has none. */
export function firstViolation(document: DocumentNode): string | undefined {
  // One error is enough to refuse: with maxErrors 1, graphql-js stops visiting at the second.
  const errors = validate(PLACEHOLDER_SCHEMA, document, SCHEMA_FREE_RULES, { maxErrors: 1 });
  return errors[0]?.message;
}
