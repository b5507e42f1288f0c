import type { DocumentNode } from "graphql";
import type { Grant, GroupPin, MappingData } from "../core/mapping.js";
import type { HasuraStoreParts } from "./hasura-rows.js";
import { toRole } from "./hasura-rows.js";

/** A pin as the documents select it. */
export interface PinRow {
  readonly group: string;
  readonly object_id: string;
}

/** A pin row as the core's GroupPin. */
export function toPin(row: PinRow): GroupPin {
  return { group: row.group, objectId: row.object_id };
}

interface GrantRow {
  readonly subject: string;
  readonly role_id: string;
}

/**
 * Everything, page by page (keyset on the primary key order), so a million grants never arrive as one
 * response. Pages are separate requests: a write landing between them moves the change marker, which the
 * snapshot sync reads before loading and so reloads again.
 */
export async function loadAllPaged(parts: HasuraStoreParts, pageSize: number): Promise<MappingData> {
  const roles = await keysetPages(
    parts,
    "load roles",
    parts.documents.listRoles,
    "roles",
    "role_id",
    toRole,
    pageSize,
  );
  const userGrants = await loadGrants(
    parts,
    "load user grants",
    parts.documents.loadUserGrantsPage,
    "user",
    pageSize,
  );
  const groupGrants = await loadGrants(
    parts,
    "load group grants",
    parts.documents.loadGroupGrantsPage,
    "group",
    pageSize,
  );
  return { roles, userGrants, groupGrants };
}

async function loadGrants(
  parts: HasuraStoreParts,
  operation: string,
  document: DocumentNode,
  column: "user" | "group",
  pageSize: number,
): Promise<Grant[]> {
  const grants: Grant[] = [];
  let last: GrantRow | undefined;
  for (;;) {
    const where =
      last === undefined
        ? {}
        : {
            _or: [
              { role_id: { _gt: last.role_id } },
              { role_id: { _eq: last.role_id }, [column]: { _gt: last.subject } },
            ],
          };
    const page = await parts.transport.request<{ grants: GrantRow[] }>(operation, document, {
      where,
      limit: pageSize,
    });
    for (const row of page.grants) grants.push({ subject: row.subject, roleId: row.role_id });
    if (page.grants.length < pageSize) break;
    last = page.grants[page.grants.length - 1];
  }
  return grants;
}

/** Every group pin, page by page (keyset on the primary key, `group`). */
export function loadGroupPinsPaged(parts: HasuraStoreParts, pageSize: number): Promise<GroupPin[]> {
  const document = parts.documents.loadGroupPinsPage;
  return keysetPages(parts, "load group pins", document, "pins", "group", toPin, pageSize);
}

// The rows of root field `field`, page by page, keyset on the one-column primary key `key`; each page mapped.
async function keysetPages<R extends Record<K, string>, K extends string, T>(
  parts: HasuraStoreParts,
  operation: string,
  document: DocumentNode,
  field: string,
  key: K,
  map: (row: R) => T,
  pageSize: number,
): Promise<T[]> {
  const items: T[] = [];
  let after: string | undefined;
  for (;;) {
    const where = after === undefined ? {} : { [key]: { _gt: after } };
    const page = await parts.transport.request<Record<string, R[]>>(operation, document, {
      where,
      limit: pageSize,
    });
    const rows = page[field] ?? [];
    items.push(...rows.map(map));
    if (rows.length < pageSize) break;
    after = rows[rows.length - 1]![key];
  }
  return items;
}
