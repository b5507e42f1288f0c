-- Group pins for schema "rolemapping": each granted group name bound to the Entra object id it had when
-- granted (GROUPS_PROVIDER=azure with AZURE_GROUP_NAME_ATTRIBUTE=displayName reads and writes them).
-- Apply after 001_rolemapping.sql, whose change-marker function its trigger calls. Idempotent.
-- Generated from src/store/sql-schema.ts; keep them equal (test/store/sql-schema.test.ts checks).

CREATE TABLE IF NOT EXISTS "rolemapping".group_pins (
  "group" varchar(255) NOT NULL,
  object_id varchar(255) NOT NULL,
  pinned_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT group_pins_pkey PRIMARY KEY ("group")
);

DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '"rolemapping".group_pins'::regclass AND tgname = 'group_pins_bump_version'
  ) THEN
    CREATE TRIGGER group_pins_bump_version
      AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "rolemapping".group_pins
      FOR EACH STATEMENT EXECUTE FUNCTION "rolemapping".rolemapping_bump_version();
  END IF;
END
$body$;
