import { quoteSchema } from "./sql-schema.js";

/** Journal entries kept: older ones are pruned, and a replica further behind than this reloads everything. */
export const JOURNAL_KEEP_VERSIONS = 100_000;

/** How often (in versions) a write prunes the journal: one DELETE per this many versions. */
export const JOURNAL_PRUNE_EVERY = 64;

/** The channel the journal notifies on (payload: the schema name), for replicas listening on PostgreSQL. */
export const JOURNAL_CHANNEL = "rolemapping_changes";

// The tables whose writes are journaled, and the kind and key column each entry records.
const JOURNALED = [
  ["roles", "role", "role_id"],
  ["role_graphql_root_field_names", "role", "role_id"],
  ["user_roles", "role", "role_id"],
  ["group_roles", "role", "role_id"],
  ["group_pins", "group_pin", "group"],
] as const;

/**
 * deploy/sql/003_change_journal.sql: the change journal. Every statement writing a mapping table records, in
 * its own transaction, which roles (or group pins) it touched under the version the change marker now has:
 * writes made with SQL or through Hasura's console are journaled like the API's. A replica reads the entries
 * after its version and reloads only those roles. Entries are pruned past JOURNAL_KEEP_VERSIONS; `journal_floor`
 * on the marker row says up to which version entries may be gone.
 */
export function journalStatements(schema: string): string[] {
  const s = quoteSchema(schema);
  return [
    `CREATE TABLE IF NOT EXISTS ${s}.rolemapping_changes (
  version bigint NOT NULL,
  kind varchar(16) NOT NULL,
  id varchar(255) NOT NULL,
  writer varchar(64),
  changed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT rolemapping_changes_pkey PRIMARY KEY (version, kind, id)
)`,
    // Nothing before the migration is journaled: the floor starts at the version the marker has then.
    `DO $body$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_attribute
    WHERE attrelid = '${s}.rolemapping_version'::regclass AND attname = 'journal_floor' AND NOT attisdropped
  ) THEN
    ALTER TABLE ${s}.rolemapping_version ADD COLUMN journal_floor bigint NOT NULL DEFAULT 0;
    UPDATE ${s}.rolemapping_version SET journal_floor = version;
  END IF;
END
$body$`,
    journalFunction(s),
    ...JOURNALED.map(([table, kind, column]) => journalTriggers(s, table, kind, column)),
    ...checksumViews(s),
  ];
}

// Runs after the statement's *_bump_version trigger (triggers fire in name order: "bump" < "journal"), so the
// marker row already holds this statement's version, locked by this transaction until it commits: versions
// are therefore journaled in commit order. The writer is the tag the sidecar sets on its own writes (directly,
// or as Hasura's session variable); edits made by others have none. SECURITY DEFINER for the same reason as
// the bump function: whoever may edit the tables may journal the edit.
function journalFunction(s: string): string {
  return `CREATE OR REPLACE FUNCTION ${s}.rolemapping_journal() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $body$
DECLARE
  current_version bigint;
  writer text := nullif(current_setting('rolemapper.writer', true), '');
  touched text;
  journaled bigint;
BEGIN
  SELECT version INTO current_version FROM ${s}.rolemapping_version;
  IF current_version IS NULL THEN
    RETURN NULL;
  END IF;
  IF writer IS NULL THEN
    writer := nullif(current_setting('hasura.user', true), '')::json ->> 'x-hasura-rolemapper-writer';
  END IF;
  IF TG_OP = 'TRUNCATE' THEN
    INSERT INTO ${s}.rolemapping_changes (version, kind, id, writer)
    VALUES (current_version, 'all', '', writer) ON CONFLICT DO NOTHING;
  ELSE
    touched := CASE TG_OP
      WHEN 'INSERT' THEN format('SELECT %I FROM new_rows', TG_ARGV[1])
      WHEN 'DELETE' THEN format('SELECT %I FROM old_rows', TG_ARGV[1])
      ELSE format('SELECT %I FROM old_rows UNION SELECT %I FROM new_rows', TG_ARGV[1], TG_ARGV[1])
    END;
    EXECUTE format(
      'INSERT INTO ${s}.rolemapping_changes (version, kind, id, writer)
       SELECT DISTINCT $1, $2, touched.id, $3 FROM (%s) AS touched(id) WHERE touched.id IS NOT NULL
       ON CONFLICT DO NOTHING', touched)
    USING current_version, TG_ARGV[0], writer;
  END IF;
  GET DIAGNOSTICS journaled = ROW_COUNT;
  IF journaled > 0 THEN
    PERFORM pg_notify('${JOURNAL_CHANNEL}', TG_TABLE_SCHEMA);
  END IF;
  IF current_version % ${JOURNAL_PRUNE_EVERY} = 0 THEN
    DELETE FROM ${s}.rolemapping_changes WHERE version <= current_version - ${JOURNAL_KEEP_VERSIONS};
    UPDATE ${s}.rolemapping_version SET journal_floor = current_version - ${JOURNAL_KEEP_VERSIONS}
    WHERE journal_floor < current_version - ${JOURNAL_KEEP_VERSIONS};
  END IF;
  RETURN NULL;
END
$body$`;
}

// Transition tables allow one event per trigger, hence four triggers per table; the catalog check keeps
// PostgreSQL before 14 (no CREATE OR REPLACE TRIGGER) and re-runs working.
function journalTriggers(s: string, table: string, kind: string, column: string): string {
  const events = [
    ["insert", "INSERT", "REFERENCING NEW TABLE AS new_rows "],
    ["update", "UPDATE", "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "],
    ["delete", "DELETE", "REFERENCING OLD TABLE AS old_rows "],
    ["truncate", "TRUNCATE", ""],
  ] as const;
  const creates = events.map(
    ([suffix, event, referencing]) => `  IF NOT EXISTS (
    SELECT 1 FROM pg_catalog.pg_trigger
    WHERE tgrelid = '${s}.${table}'::regclass AND tgname = '${table}_journal_${suffix}'
  ) THEN
    CREATE TRIGGER ${table}_journal_${suffix}
      AFTER ${event} ON ${s}.${table} ${referencing}FOR EACH STATEMENT
      EXECUTE FUNCTION ${s}.rolemapping_journal('${kind}', '${column}');
  END IF;`,
  );
  return `DO $body$
BEGIN
${creates.join("\n")}
END
$body$`;
}

// One 32-bit hash per row (src/core/checksum.ts computes the same in the sidecar), and their sum modulo 2^48
// with the version it was taken at: a replica compares it with its snapshot's instead of reloading.
function checksumViews(s: string): string[] {
  const hash = (kind: string, role: string, value: string) =>
    `hashtext('${kind}' || chr(31) || ${role} || chr(31) || ${value})::bigint & 4294967295`;
  return [
    `CREATE OR REPLACE VIEW ${s}.rolemapping_row_hashes AS
SELECT role_id, ${hash("r", "role_id", "component_id")} AS hash FROM ${s}.roles
UNION ALL
SELECT f.role_id, ${hash("f", "f.role_id", "f.graphql_root_field_name")}
FROM ${s}.role_graphql_root_field_names f JOIN ${s}.roles r ON r.role_id = f.role_id
UNION ALL
SELECT role_id, ${hash("s", "role_id", '"user"')} FROM ${s}.user_roles
UNION ALL
SELECT role_id, ${hash("s", "role_id", '"group"')} FROM ${s}.group_roles`,
    `CREATE OR REPLACE VIEW ${s}.rolemapping_checksum AS
SELECT v.version::text AS version,
  ((SELECT coalesce(sum(h.hash), 0) FROM ${s}.rolemapping_row_hashes h) % 281474976710656)::text AS checksum
FROM ${s}.rolemapping_version v`,
  ];
}

/** The header of deploy/sql/003_change_journal.sql. */
export const JOURNAL_HEADER = (schema: string) =>
  `-- Change journal for schema "${schema}": each write records which roles (or group pins) it touched, with the\n` +
  `-- version it produced, so replicas reload only those; checksum views for the periodic safety-net check.\n` +
  `-- Apply after 001_rolemapping.sql and 002_group_pins.sql. Idempotent.\n`;
