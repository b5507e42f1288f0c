-- Change journal for schema "rolemapping": each write records which roles (or group pins) it touched, with the
-- version it produced, so replicas reload only those; checksum views for the periodic safety-net check.
-- Apply after 001_rolemapping.sql and 002_group_pins.sql. Idempotent.
-- Generated from src/store/sql-schema.ts; keep them equal (test/store/sql-schema.test.ts checks).

CREATE TABLE IF NOT EXISTS "rolemapping".rolemapping_changes (
  version bigint NOT NULL,
  kind varchar(16) NOT NULL,
  id varchar(255) NOT NULL,
  writer varchar(64),
  changed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rolemapping_changes_pkey PRIMARY KEY (version, kind, id)
);

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_attribute
    WHERE attrelid = '"rolemapping".rolemapping_version'::regclass AND attname = 'journal_floor' AND NOT attisdropped
  ) THEN
    ALTER TABLE "rolemapping".rolemapping_version ADD COLUMN journal_floor bigint NOT NULL DEFAULT 0;
    UPDATE "rolemapping".rolemapping_version SET journal_floor = version;
  END IF;
END
$body$;

CREATE OR REPLACE FUNCTION "rolemapping".rolemapping_journal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
  current_version bigint;
  writer text := nullif(current_setting('rolemapper.writer', true), '');
  touched text;
  journaled bigint;
BEGIN
  SELECT version INTO current_version FROM "rolemapping".rolemapping_version;
  IF current_version IS NULL THEN
    RETURN NULL;
  END IF;
  IF writer IS NULL THEN
    writer := nullif(current_setting('hasura.user', true), '')::json ->> 'x-hasura-rolemapper-writer';
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO "rolemapping".rolemapping_changes (version, kind, id, writer)
    VALUES (current_version, 'all', '', writer) ON CONFLICT DO NOTHING;
  ELSE
    touched := CASE TG_OP
      WHEN 'INSERT' THEN format('SELECT %I FROM new_rows', TG_ARGV[1])
      WHEN 'DELETE' THEN format('SELECT %I FROM old_rows', TG_ARGV[1])
      ELSE format('SELECT %I FROM old_rows UNION SELECT %I FROM new_rows', TG_ARGV[1], TG_ARGV[1])
    END;
    EXECUTE format(
      'INSERT INTO "rolemapping".rolemapping_changes (version, kind, id, writer)
       SELECT DISTINCT $1, $2, touched.id, $3 FROM (%s) AS touched(id) WHERE touched.id IS NOT NULL
       ON CONFLICT DO NOTHING', touched)
    USING current_version, TG_ARGV[0], writer;
  END IF;
  GET DIAGNOSTICS journaled = ROW_COUNT;
  IF journaled > 0 THEN
    PERFORM pg_notify('rolemapping_changes', TG_TABLE_SCHEMA);
  END IF;
  IF current_version % 64 = 0 THEN
    DELETE FROM "rolemapping".rolemapping_changes WHERE version <= current_version - 100000;
    UPDATE "rolemapping".rolemapping_version SET journal_floor = current_version - 100000
    WHERE journal_floor < current_version - 100000;
  END IF;
  RETURN NULL;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".roles'::regclass AND tgname = 'roles_journal_insert'
  ) THEN
    CREATE TRIGGER roles_journal_insert
      AFTER INSERT ON "rolemapping".roles REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".roles'::regclass AND tgname = 'roles_journal_update'
  ) THEN
    CREATE TRIGGER roles_journal_update
      AFTER UPDATE ON "rolemapping".roles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".roles'::regclass AND tgname = 'roles_journal_delete'
  ) THEN
    CREATE TRIGGER roles_journal_delete
      AFTER DELETE ON "rolemapping".roles REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".roles'::regclass AND tgname = 'roles_journal_truncate'
  ) THEN
    CREATE TRIGGER roles_journal_truncate
      AFTER TRUNCATE ON "rolemapping".roles FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".role_graphql_root_field_names'::regclass AND tgname = 'role_graphql_root_field_names_journal_insert'
  ) THEN
    CREATE TRIGGER role_graphql_root_field_names_journal_insert
      AFTER INSERT ON "rolemapping".role_graphql_root_field_names REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".role_graphql_root_field_names'::regclass AND tgname = 'role_graphql_root_field_names_journal_update'
  ) THEN
    CREATE TRIGGER role_graphql_root_field_names_journal_update
      AFTER UPDATE ON "rolemapping".role_graphql_root_field_names REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".role_graphql_root_field_names'::regclass AND tgname = 'role_graphql_root_field_names_journal_delete'
  ) THEN
    CREATE TRIGGER role_graphql_root_field_names_journal_delete
      AFTER DELETE ON "rolemapping".role_graphql_root_field_names REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".role_graphql_root_field_names'::regclass AND tgname = 'role_graphql_root_field_names_journal_truncate'
  ) THEN
    CREATE TRIGGER role_graphql_root_field_names_journal_truncate
      AFTER TRUNCATE ON "rolemapping".role_graphql_root_field_names FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".user_roles'::regclass AND tgname = 'user_roles_journal_insert'
  ) THEN
    CREATE TRIGGER user_roles_journal_insert
      AFTER INSERT ON "rolemapping".user_roles REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".user_roles'::regclass AND tgname = 'user_roles_journal_update'
  ) THEN
    CREATE TRIGGER user_roles_journal_update
      AFTER UPDATE ON "rolemapping".user_roles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".user_roles'::regclass AND tgname = 'user_roles_journal_delete'
  ) THEN
    CREATE TRIGGER user_roles_journal_delete
      AFTER DELETE ON "rolemapping".user_roles REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".user_roles'::regclass AND tgname = 'user_roles_journal_truncate'
  ) THEN
    CREATE TRIGGER user_roles_journal_truncate
      AFTER TRUNCATE ON "rolemapping".user_roles FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_roles'::regclass AND tgname = 'group_roles_journal_insert'
  ) THEN
    CREATE TRIGGER group_roles_journal_insert
      AFTER INSERT ON "rolemapping".group_roles REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_roles'::regclass AND tgname = 'group_roles_journal_update'
  ) THEN
    CREATE TRIGGER group_roles_journal_update
      AFTER UPDATE ON "rolemapping".group_roles REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_roles'::regclass AND tgname = 'group_roles_journal_delete'
  ) THEN
    CREATE TRIGGER group_roles_journal_delete
      AFTER DELETE ON "rolemapping".group_roles REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_roles'::regclass AND tgname = 'group_roles_journal_truncate'
  ) THEN
    CREATE TRIGGER group_roles_journal_truncate
      AFTER TRUNCATE ON "rolemapping".group_roles FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('role', 'role_id');
  END IF;
END
$body$;

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_pins'::regclass AND tgname = 'group_pins_journal_insert'
  ) THEN
    CREATE TRIGGER group_pins_journal_insert
      AFTER INSERT ON "rolemapping".group_pins REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('group_pin', 'group');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_pins'::regclass AND tgname = 'group_pins_journal_update'
  ) THEN
    CREATE TRIGGER group_pins_journal_update
      AFTER UPDATE ON "rolemapping".group_pins REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('group_pin', 'group');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_pins'::regclass AND tgname = 'group_pins_journal_delete'
  ) THEN
    CREATE TRIGGER group_pins_journal_delete
      AFTER DELETE ON "rolemapping".group_pins REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('group_pin', 'group');
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_pins'::regclass AND tgname = 'group_pins_journal_truncate'
  ) THEN
    CREATE TRIGGER group_pins_journal_truncate
      AFTER TRUNCATE ON "rolemapping".group_pins FOR EACH STATEMENT
      EXECUTE FUNCTION "rolemapping".rolemapping_journal('group_pin', 'group');
  END IF;
END
$body$;

CREATE OR REPLACE VIEW "rolemapping".rolemapping_row_hashes AS
SELECT role_id, hashtext('r' || chr(31) || role_id || chr(31) || component_id)::bigint & 4294967295 AS hash FROM "rolemapping".roles
UNION ALL
SELECT f.role_id, hashtext('f' || chr(31) || f.role_id || chr(31) || f.graphql_root_field_name)::bigint & 4294967295
FROM "rolemapping".role_graphql_root_field_names f JOIN "rolemapping".roles r ON r.role_id = f.role_id
UNION ALL
SELECT role_id, hashtext('s' || chr(31) || role_id || chr(31) || "user")::bigint & 4294967295 FROM "rolemapping".user_roles
UNION ALL
SELECT role_id, hashtext('s' || chr(31) || role_id || chr(31) || "group")::bigint & 4294967295 FROM "rolemapping".group_roles;

CREATE OR REPLACE VIEW "rolemapping".rolemapping_checksum AS
SELECT v.version::text AS version,
  ((SELECT coalesce(sum(h.hash), 0) FROM "rolemapping".rolemapping_row_hashes h) % 281474976710656)::text AS checksum
FROM "rolemapping".rolemapping_version v;
