import type { GroupPin } from "../core/mapping.js";
import type { SqlQueryable, SqlRow } from "./sql-client.js";

// Pins are written in group order, so two transactions pinning overlapping names lock their rows in one order.
function columns(pins: readonly GroupPin[]): [string[], string[]] {
  const sorted = [...pins].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  return [sorted.map((pin) => pin.group), sorted.map((pin) => pin.objectId)];
}

/** Stores `pins` inside `tx` (schema `s`, quoted), replacing the pins those groups had. */
export async function upsertPinsIn(tx: SqlQueryable, s: string, pins: readonly GroupPin[]): Promise<void> {
  if (pins.length === 0) return;
  await tx.query(
    `INSERT INTO ${s}.group_pins ("group", object_id, pinned_at)
     SELECT g, o, now() FROM unnest($1::text[], $2::text[]) AS wanted(g, o)
     ON CONFLICT ("group") DO UPDATE SET object_id = excluded.object_id, pinned_at = excluded.pinned_at`,
    columns(pins),
  );
}

/** Stores the pins whose group has none inside `tx`, and returns the pins now stored for those groups. */
export async function pinAbsentIn(
  tx: SqlQueryable,
  s: string,
  pins: readonly GroupPin[],
): Promise<GroupPin[]> {
  if (pins.length === 0) return [];
  const [groups, objectIds] = columns(pins);
  await tx.query(
    `INSERT INTO ${s}.group_pins ("group", object_id)
     SELECT g, o FROM unnest($1::text[], $2::text[]) AS wanted(g, o) ON CONFLICT ("group") DO NOTHING`,
    [groups, objectIds],
  );
  return selectPinsOf(tx, s, groups);
}

/** Every pin of schema `s`. */
export async function selectPins(q: SqlQueryable, s: string): Promise<GroupPin[]> {
  return toPins(await q.query(`SELECT "group", object_id FROM ${s}.group_pins`));
}

/** The pins of `groups` in schema `s`. */
export async function selectPinsOf(
  q: SqlQueryable,
  s: string,
  groups: readonly string[],
): Promise<GroupPin[]> {
  if (groups.length === 0) return [];
  return toPins(
    await q.query(`SELECT "group", object_id FROM ${s}.group_pins WHERE "group" = ANY($1::text[])`, [
      [...groups],
    ]),
  );
}

function toPins(rows: readonly SqlRow[]): GroupPin[] {
  return rows.map((row) => ({ group: row.group as string, objectId: row.object_id as string }));
}
