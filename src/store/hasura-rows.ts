import type { DocumentNode } from "graphql";
import type { Role } from "../core/mapping.js";
import { hasuraDocuments, type HasuraDocuments } from "./hasura-documents.js";
import type { HasuraNames } from "./hasura-names.js";
import { prepareDocument, type HasuraTransport } from "./hasura-transport.js";

/** A role as the documents select it. */
export interface RoleRow {
  readonly role_id: string;
  readonly component_id: string;
  readonly role_graphql_root_field_names: readonly { readonly graphql_root_field_name: string }[];
}

/** The documents, parsed once. */
export type PreparedDocuments = Readonly<Record<keyof HasuraDocuments, DocumentNode>>;

/** What the store's modules share: the transport and the prepared documents. */
export interface HasuraStoreParts {
  readonly transport: HasuraTransport;
  readonly documents: PreparedDocuments;
}

/** Parses every document for the tables named by `names`. */
export function prepareDocuments(names: HasuraNames): PreparedDocuments {
  const texts = hasuraDocuments(names);
  return Object.fromEntries(
    Object.entries(texts).map(([name, text]) => [name, prepareDocument(text)]),
  ) as PreparedDocuments;
}

/** A role row → Role, root fields sorted (the order every store reports). */
export function toRole(row: RoleRow): Role {
  return {
    roleId: row.role_id,
    componentId: row.component_id,
    rootFields: row.role_graphql_root_field_names.map((f) => f.graphql_root_field_name).sort(),
  };
}
