-- The ledger of combined roles for schema "rolemapping" (COMBINED_ROLES=hasura): when each combined role was
-- last used by any replica, which replica is dropping it, and which one sweeps for roles unused for
-- COMBINED_ROLE_IDLE_S. Without it idle combined roles are kept. Idempotent.
-- Generated from src/store/sql-schema.ts; keep them equal (test/store/sql-schema.test.ts checks).

CREATE TABLE IF NOT EXISTS "rolemapping".rolemapping_combined_roles (
  role_name varchar(255) NOT NULL,
  parent_roles text NOT NULL,
  last_used_ms bigint NOT NULL,
  drop_until_ms bigint,
  CONSTRAINT rolemapping_combined_roles_pkey PRIMARY KEY (role_name)
);

CREATE TABLE IF NOT EXISTS "rolemapping".rolemapping_combined_sweep (
  singleton boolean NOT NULL DEFAULT true,
  holder varchar(255) NOT NULL,
  until_ms bigint NOT NULL,
  CONSTRAINT rolemapping_combined_sweep_pkey PRIMARY KEY (singleton),
  CONSTRAINT rolemapping_combined_sweep_singleton_check CHECK (singleton)
);
