import type { JournalEntry, JournalGap, JournalRead } from "../core/store-port.js";
import type { WriteTags } from "./write-tags.js";

// A marker is the version as decimal digits; anything else ("none": no marker row) cannot be compared.
const VERSION = /^\d{1,19}$/;

/** True when `since` is a version the journal can be asked about. */
export function isVersion(since: string): boolean {
  return VERSION.test(since);
}

/** Why the journal, at `marker` with `floor`, cannot answer for `since`: a marker below it, or entries pruned. */
export function troubleSince(marker: string, floor: string, since: string): JournalGap | undefined {
  if (!isVersion(since) || BigInt(marker) < BigInt(since)) return "reset";
  if (BigInt(floor) > BigInt(since)) return "pruned";
  return undefined;
}

/** An incomplete read. */
export function gap(reason: JournalGap): JournalRead {
  return { complete: false, reason };
}

/**
 * The journal's rows after a version, read up to `marker` (at most `limit` + 1 of them), as the store port
 * answers them: distinct entries, own when `tags` answered their write; incomplete past `limit` or on a TRUNCATE.
 */
export function toJournalRead(
  marker: string,
  rows: readonly { kind: string; id: string; writer: string | null }[],
  limit: number,
  tags: WriteTags,
): JournalRead {
  if (rows.length > limit) return gap("too_many");
  if (rows.some((row) => row.kind === "all")) return gap("truncated");
  const entries = new Map<string, JournalEntry>();
  for (const { kind, id, writer } of rows) {
    if (kind !== "role" && kind !== "group_pin") continue;
    const own = tags.isOwn(writer);
    entries.set(`${kind}\u001f${id}\u001f${own}`, { kind, id, own });
  }
  return { complete: true, marker, entries: [...entries.values()] };
}
