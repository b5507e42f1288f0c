import { InvalidArgumentError } from "../core/errors.js";

// Hasura names are GraphQL names: a schema outside this set cannot be tracked under its own name.
const GRAPHQL_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** The Hasura names of the mapping tables for one Postgres schema. */
export interface HasuraNames {
  /** `""` for schema `public`, else `<schema>_`: how Hasura prefixes root fields and type names. */
  readonly prefix: string;
  readonly roles: string;
  readonly rootFieldNames: string;
  readonly userRoles: string;
  readonly groupRoles: string;
  readonly groupPins: string;
  readonly version: string;
  /** The change journal (deploy/sql/003_change_journal.sql). */
  readonly changes: string;
  /** The view of the mapping's checksum and the version it was taken at. */
  readonly checksum: string;
  /** The combined-role ledger (deploy/sql/004_combined_roles.sql): uses, and the sweep. */
  readonly combinedRoles: string;
  readonly combinedSweep: string;
}

/** Hasura's root-field prefix for a schema: none for `public`, else the schema name and `_`. */
export function hasuraPrefix(schema: string): string {
  if (!GRAPHQL_NAME.test(schema)) {
    throw new InvalidArgumentError(
      "schema",
      `"${schema}" is not a plain identifier (letters, digits, underscores; at most 63; not starting with a digit)`,
    );
  }
  return schema === "public" ? "" : `${schema}_`;
}

/** The Hasura names (root fields and type-name stems) of the tables of `schema`. */
export function hasuraNames(schema: string): HasuraNames {
  const prefix = hasuraPrefix(schema);
  return {
    prefix,
    roles: `${prefix}roles`,
    rootFieldNames: `${prefix}role_graphql_root_field_names`,
    userRoles: `${prefix}user_roles`,
    groupRoles: `${prefix}group_roles`,
    groupPins: `${prefix}group_pins`,
    version: `${prefix}rolemapping_version`,
    changes: `${prefix}rolemapping_changes`,
    checksum: `${prefix}rolemapping_checksum`,
    combinedRoles: `${prefix}rolemapping_combined_roles`,
    combinedSweep: `${prefix}rolemapping_combined_sweep`,
  };
}
