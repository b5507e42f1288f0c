import type { Grant, MappingData, Role } from "../core/mapping.js";
import { gap, isVersion, toJournalRead, troubleSince } from "./journal-read.js";
import type { JournalRead, StoreChecksum } from "../core/store-port.js";
import type { SqlQueryable, SqlRow } from "./sql-client.js";
import type { WriteTags } from "./write-tags.js";

/**
 * The journal after version `since` (schema `s`, quoted), read with the marker and the floor in one statement,
 * hence from one snapshot: the entries are exactly those up to the marker returned.
 */
export async function readChanges(
  q: SqlQueryable,
  s: string,
  since: string,
  limit: number,
  tags: WriteTags,
): Promise<JournalRead> {
  if (!isVersion(since)) return gap("reset");
  const rows = await q.query(
    `SELECT v.version::text AS marker, v.journal_floor::text AS floor,
       (SELECT coalesce(json_agg(json_build_array(e.kind, e.id, e.writer)), '[]')::text FROM (
          SELECT DISTINCT c.kind, c.id, c.writer FROM ${s}.rolemapping_changes c
          WHERE c.version > $1::bigint AND c.version <= v.version LIMIT $2) e) AS entries
     FROM ${s}.rolemapping_version v`,
    [since, limit + 1],
  );
  const row = rows[0];
  if (!row) return gap("missing");
  const trouble = troubleSince(row.marker as string, row.floor as string, since);
  if (trouble) return gap(trouble);
  const raw = JSON.parse(row.entries as string) as [string, string, string | null][];
  const changes = raw.map(([kind, id, writer]) => ({ kind, id, writer }));
  return toJournalRead(row.marker as string, changes, limit, tags);
}

/**
 * The checksum of every role not changed after `since`, with the marker and the roles left out, in one
 * statement; undefined when the journal does not reach back to `since`.
 */
export async function readChecksum(
  q: SqlQueryable,
  s: string,
  since: string,
): Promise<StoreChecksum | undefined> {
  if (!isVersion(since)) return undefined;
  const rows = await q.query(
    `WITH v AS (SELECT version, journal_floor FROM ${s}.rolemapping_version),
     changed AS (
       SELECT DISTINCT c.kind, c.id FROM ${s}.rolemapping_changes c, v
       WHERE c.version > $1::bigint AND c.version <= v.version AND c.kind IN ('role', 'all'))
     SELECT v.version::text AS marker, v.journal_floor::text AS floor,
       (SELECT coalesce(json_agg(json_build_array(kind, id)), '[]')::text FROM changed) AS changed,
       ((SELECT coalesce(sum(h.hash), 0) FROM ${s}.rolemapping_row_hashes h
         WHERE h.role_id NOT IN (SELECT id FROM changed WHERE kind = 'role')) % 281474976710656)::text AS checksum
     FROM v`,
    [since],
  );
  const row = rows[0];
  if (!row || troubleSince(row.marker as string, row.floor as string, since)) return undefined;
  const changed = JSON.parse(row.changed as string) as [string, string][];
  if (changed.some(([kind]) => kind === "all")) return undefined;
  return {
    marker: row.marker as string,
    checksum: row.checksum as string,
    changedRoles: changed.map((c) => c[1]),
  };
}

/**
 * The roles among `roleIds` with their root fields, and every grant naming one of them, in one statement (one
 * snapshot): a write that touched several of them is seen whole or not at all.
 */
export async function selectRoles(
  q: SqlQueryable,
  s: string,
  roleIds: readonly string[],
): Promise<MappingData> {
  if (roleIds.length === 0) return { roles: [], userGrants: [], groupGrants: [] };
  const rows = await q.query(
    `SELECT 'r' AS kind, r.role_id, r.component_id,
       coalesce(json_agg(f.graphql_root_field_name) FILTER (WHERE f.graphql_root_field_name IS NOT NULL),
         '[]')::text AS items
     FROM ${s}.roles r LEFT JOIN ${s}.role_graphql_root_field_names f ON f.role_id = r.role_id
     WHERE r.role_id = ANY($1::text[]) GROUP BY r.role_id, r.component_id
     UNION ALL
     SELECT 'u', role_id, NULL, json_agg("user")::text FROM ${s}.user_roles
     WHERE role_id = ANY($1::text[]) GROUP BY role_id
     UNION ALL
     SELECT 'g', role_id, NULL, json_agg("group")::text FROM ${s}.group_roles
     WHERE role_id = ANY($1::text[]) GROUP BY role_id`,
    [[...roleIds]],
  );
  return toMappingData(rows);
}

/** True for the SQLSTATEs of a missing table or column: the journal migration was not applied. */
export function journalMissing(code: string | undefined): boolean {
  return code === "42P01" || code === "42703";
}

function toMappingData(rows: readonly SqlRow[]): MappingData {
  const roles: Role[] = [];
  const userGrants: Grant[] = [];
  const groupGrants: Grant[] = [];
  for (const row of rows) {
    const roleId = row.role_id as string;
    const items = JSON.parse(row.items as string) as string[];
    if (row.kind === "r")
      roles.push({ roleId, componentId: row.component_id as string, rootFields: items.sort() });
    else for (const subject of items) (row.kind === "u" ? userGrants : groupGrants).push({ subject, roleId });
  }
  return { roles, userGrants, groupGrants };
}
