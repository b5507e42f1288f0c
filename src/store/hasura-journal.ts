import type { MappingData } from "../core/mapping.js";
import { gap, toJournalRead, troubleSince } from "./journal-read.js";
import type { JournalRead, StoreChecksum } from "../core/store-port.js";
import { toRole, type HasuraStoreParts, type RoleRow } from "./hasura-rows.js";
import type { WriteTags } from "./write-tags.js";

/** The session variable carrying a write's tag: Hasura hands it to the journal's triggers in `hasura.user`. */
export const WRITER_HEADER = "X-Hasura-Rolemapper-Writer";

interface LoadedRoleRow extends RoleRow {
  readonly user_roles: readonly { readonly user: string }[];
  readonly group_roles: readonly { readonly group: string }[];
}

type Version = number | string;

// Hasura's error for a field its schema lacks: the journal is not applied or not tracked.
const UNTRACKED = /rolemapping_changes|rolemapping_checksum|journal_floor/;

/**
 * The journal after `since`: the marker and floor first, then the entries up to that marker. Two requests,
 * because Hasura reads the root fields of one query in statements of their own: read the other way round, a
 * write committing in between could be counted in the marker and missing from the entries.
 */
export async function readJournal(
  parts: HasuraStoreParts,
  since: string,
  limit: number,
  tags: WriteTags,
): Promise<JournalRead> {
  let marker: { version: Version; journal_floor: Version } | undefined;
  let changes: { kind: string; id: string; writer: string | null }[];
  try {
    const data = await parts.transport.request<{ versions: { version: Version; journal_floor: Version }[] }>(
      "read journal marker",
      parts.documents.readJournalMarker,
    );
    marker = data.versions[0];
    if (!marker) return gap("missing");
    const trouble = troubleSince(String(marker.version), String(marker.journal_floor), since);
    if (trouble) return gap(trouble);
    // Nothing changed: the one request a poll costs, as reading the change marker alone would.
    if (String(marker.version) === since) return { complete: true, marker: since, entries: [] };
    ({ changes } = await parts.transport.request<{ changes: typeof changes }>(
      "read changes",
      parts.documents.readChanges,
      { since, upTo: String(marker.version), limit: limit + 1 },
    ));
  } catch (error) {
    if (error instanceof Error && UNTRACKED.test(error.message)) return gap("missing");
    throw error;
  }
  return toJournalRead(String(marker.version), changes, limit, tags);
}

/** The roles among `roleIds` with their root fields and grants, in one root field (one snapshot). */
export async function loadRolesOf(parts: HasuraStoreParts, roleIds: readonly string[]): Promise<MappingData> {
  if (roleIds.length === 0) return { roles: [], userGrants: [], groupGrants: [] };
  const { roles } = await parts.transport.request<{ roles: LoadedRoleRow[] }>(
    "load roles",
    parts.documents.loadRoles,
    {
      roleIds,
    },
  );
  return {
    roles: roles.map(toRole),
    userGrants: roles.flatMap((r) => r.user_roles.map((u) => ({ subject: u.user, roleId: r.role_id }))),
    groupGrants: roles.flatMap((r) => r.group_roles.map((g) => ({ subject: g.group, roleId: r.role_id }))),
  };
}

/**
 * The checksum view's answer when it was taken at marker `since`, else undefined: a view takes no argument, so
 * Hasura cannot leave the roles changed since out; the caller tries again at a quieter moment.
 */
export async function readChecksumOf(
  parts: HasuraStoreParts,
  since: string,
): Promise<StoreChecksum | undefined> {
  let checksums: { version: string; checksum: string }[];
  try {
    ({ checksums } = await parts.transport.request<{ checksums: typeof checksums }>(
      "read checksum",
      parts.documents.readChecksum,
    ));
  } catch (error) {
    if (error instanceof Error && UNTRACKED.test(error.message)) return undefined;
    throw error;
  }
  const row = checksums[0];
  if (!row || String(row.version) !== since) return undefined;
  return { marker: String(row.version), checksum: String(row.checksum), changedRoles: [] };
}
