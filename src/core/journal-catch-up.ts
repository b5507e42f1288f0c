import type { GroupPin, MappingData } from "./mapping.js";
import type { Snapshot } from "./snapshot.js";
import type { JournalGap, RoleMappingStore } from "./store-port.js";

/** How a snapshot caught up with the journal. */
export type CatchUp =
  | {
      readonly kind: "applied";
      /** The marker the snapshot is now at. */
      readonly marker: string;
      /** Roles reloaded (changed by others); this replica's own writes are not among them. */
      readonly roleIds: readonly string[];
      /** Group pins reloaded. */
      readonly pins: number;
      /** Roles the snapshot held that others deleted. */
      readonly deleted: readonly string[];
    }
  | { readonly kind: "reload"; readonly reason: JournalGap };

/** What catching up needs besides the store and the snapshot. */
export interface CatchUpOptions {
  /** Most roles reloaded one by one; past it, loading everything is cheaper. */
  readonly maxChangedRoles: number;
  /** Whether the snapshot carries group pins (then changed pins are reloaded too). */
  readonly groupPins: boolean;
}

const NOTHING: MappingData = { roles: [], userGrants: [], groupGrants: [] };

/**
 * Brings `snapshot`, at marker `since`, up to the store's marker: reads which roles (and pins) the journal lists
 * as changed since, skips those this replica wrote itself (applied in place as it wrote them), reloads the
 * others and swaps them in, all in one synchronous step once everything is read. Says so when the journal cannot
 * tell (the caller then loads everything).
 */
export async function catchUp(
  store: RoleMappingStore,
  snapshot: Snapshot,
  since: string,
  options: CatchUpOptions,
): Promise<CatchUp> {
  const read = await store.changesSince(since, options.maxChangedRoles);
  if (!read.complete) return { kind: "reload", reason: read.reason };
  const roleIds = new Set<string>();
  const groups = new Set<string>();
  for (const entry of read.entries) {
    if (entry.own) continue;
    if (entry.kind === "role") roleIds.add(entry.id);
    else if (options.groupPins) groups.add(entry.id);
  }
  const data = roleIds.size > 0 ? await store.loadRoles([...roleIds]) : NOTHING;
  const pins: GroupPin[] = groups.size > 0 ? await store.loadGroupPinsOf([...groups]) : [];
  const reloaded = new Set(data.roles.map((role) => role.roleId));
  const deleted = [...roleIds].filter(
    (roleId) => !reloaded.has(roleId) && snapshot.role(roleId) !== undefined,
  );
  // No await from here on: a decision sees the snapshot before all of this or after all of it.
  if (roleIds.size > 0) snapshot.replaceRoles(roleIds, data);
  if (groups.size > 0) snapshot.replacePins(groups, pins);
  return { kind: "applied", marker: read.marker, roleIds: [...roleIds], pins: groups.size, deleted };
}
