-- Role mapping tables, change marker and triggers for schema "rolemapping".
-- Idempotent: safe to apply again. Existing tables keep their columns and constraints; only the
-- role_id indexes and the change-marker triggers are added to them.
-- New foreign keys cascade on delete; the service deletes a role's mappings itself, so older tables
-- without the cascade work as well. Statement triggers bump rolemapping_version on every change.
-- Generated from src/store/sql-schema.ts; keep them equal (test/store/sql-schema.test.ts checks).

CREATE SCHEMA IF NOT EXISTS "rolemapping";

CREATE TABLE IF NOT EXISTS "rolemapping".roles (
  role_id varchar(255) NOT NULL,
  component_id varchar(255) NOT NULL,
  CONSTRAINT roles_pkey PRIMARY KEY (role_id),
  CONSTRAINT roles_component_id_key UNIQUE (component_id)
);

CREATE TABLE IF NOT EXISTS "rolemapping".role_graphql_root_field_names (
  role_id varchar(255) NOT NULL,
  graphql_root_field_name varchar(255) NOT NULL,
  CONSTRAINT role_graphql_root_field_names_pkey PRIMARY KEY (role_id, graphql_root_field_name),
  CONSTRAINT role_graphql_root_field_names_role_id_fkey FOREIGN KEY (role_id)
    REFERENCES "rolemapping".roles (role_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS "rolemapping".user_roles (
  "user" varchar(255) NOT NULL,
  role_id varchar(255) NOT NULL,
  last_update timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_roles_pkey PRIMARY KEY ("user", role_id),
  CONSTRAINT user_roles_role_id_fkey FOREIGN KEY (role_id)
    REFERENCES "rolemapping".roles (role_id) ON DELETE CASCADE
);

CREATE TABLE IF NOT EXISTS "rolemapping".group_roles (
  "group" varchar(255) NOT NULL,
  role_id varchar(255) NOT NULL,
  last_update timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT group_roles_pkey PRIMARY KEY ("group", role_id),
  CONSTRAINT group_roles_role_id_fkey FOREIGN KEY (role_id)
    REFERENCES "rolemapping".roles (role_id) ON DELETE CASCADE
);

CREATE INDEX IF NOT EXISTS user_roles_role_id_idx ON "rolemapping".user_roles (role_id);

CREATE INDEX IF NOT EXISTS group_roles_role_id_idx ON "rolemapping".group_roles (role_id);

CREATE TABLE IF NOT EXISTS "rolemapping".rolemapping_version (
  singleton boolean NOT NULL DEFAULT true,
  version bigint NOT NULL,
  CONSTRAINT rolemapping_version_pkey PRIMARY KEY (singleton),
  CONSTRAINT rolemapping_version_singleton_check CHECK (singleton)
);

INSERT INTO "rolemapping".rolemapping_version (singleton, version) VALUES (true, 0) ON CONFLICT DO NOTHING;

CREATE OR REPLACE FUNCTION "rolemapping".rolemapping_bump_version() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
BEGIN
  UPDATE "rolemapping".rolemapping_version SET version = version + 1;
  RETURN NULL;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".roles'::regclass AND tgname = 'roles_bump_version'
  ) THEN
    CREATE TRIGGER roles_bump_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "rolemapping".roles
      FOR EACH STATEMENT EXECUTE FUNCTION "rolemapping".rolemapping_bump_version();
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".role_graphql_root_field_names'::regclass AND tgname = 'role_graphql_root_field_names_bump_version'
  ) THEN
    CREATE TRIGGER role_graphql_root_field_names_bump_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "rolemapping".role_graphql_root_field_names
      FOR EACH STATEMENT EXECUTE FUNCTION "rolemapping".rolemapping_bump_version();
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".user_roles'::regclass AND tgname = 'user_roles_bump_version'
  ) THEN
    CREATE TRIGGER user_roles_bump_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "rolemapping".user_roles
      FOR EACH STATEMENT EXECUTE FUNCTION "rolemapping".rolemapping_bump_version();
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_roles'::regclass AND tgname = 'group_roles_bump_version'
  ) THEN
    CREATE TRIGGER group_roles_bump_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "rolemapping".group_roles
      FOR EACH STATEMENT EXECUTE FUNCTION "rolemapping".rolemapping_bump_version();
  END IF;
END
$body$;
