import { quoteSchema } from "./sql-schema.js";

/**
 * deploy/sql/004_combined_roles.sql: the ledger of combined roles (COMBINED_ROLES=hasura with
 * COMBINED_ROLE_IDLE_S). One row per combined role in Hasura's metadata: when any replica last used it and, while
 * a replica drops it, until when that replica holds it; one row saying which replica sweeps, and until when.
 * Times are milliseconds since the epoch by the sidecars' clocks. Not mapping data: neither journaled nor part of
 * the change marker or the checksum.
 */
export function combinedRoleStatements(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.rolemapping_combined_roles (
  role_name varchar(255) NOT NULL,
  parent_roles text NOT NULL,
  last_used_ms bigint NOT NULL,
  drop_until_ms bigint,
  CONSTRAINT rolemapping_combined_roles_pkey PRIMARY KEY (role_name)
)`,
    `CREATE TABLE IF NOT EXISTS ${s}.rolemapping_combined_sweep (
  singleton boolean NOT NULL DEFAULT true,
  holder varchar(255) NOT NULL,
  until_ms bigint NOT NULL,
  CONSTRAINT rolemapping_combined_sweep_pkey PRIMARY KEY (singleton),
  CONSTRAINT rolemapping_combined_sweep_singleton_check CHECK (singleton)
)`,
  ];
}

/** The header of deploy/sql/004_combined_roles.sql. */
export const COMBINED_HEADER = (schema: string) =>
  `-- The ledger of combined roles for schema "${schema}" (COMBINED_ROLES=hasura): when each combined role was\n` +
  `-- last used by any replica, which replica is dropping it, and which one sweeps for roles unused for\n` +
  `-- COMBINED_ROLE_IDLE_S. Without it idle combined roles are kept. Idempotent.\n`;
