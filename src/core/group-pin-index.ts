import type { GroupPin } from "./mapping.js";
import { GROUP_PREFIX } from "./principal.js";

const EMPTY: ReadonlySet<string> = new Set();

/** Group pins as decisions read them. */
export interface GroupPins {
  /** Number of pinned names. */
  readonly size: number;
  /** The object id a `group:` subject is pinned to. */
  objectIdOf(group: string): string | undefined;
  /**
   * The group names (without `group:`) pinned to an object id: a renamed group keeps the names it was granted
   * under. The strings are kept, so a decision reuses them (and their hashes) instead of cutting new ones.
   */
  namesPinnedTo(objectId: string): ReadonlySet<string>;
}

/** Group pins indexed both ways: each name's object id, and the names pinned to each object id. */
export class GroupPinIndex implements GroupPins {
  private readonly byGroup = new Map<string, string>();
  private readonly byObjectId = new Map<string, Set<string>>();

  get size(): number {
    return this.byGroup.size;
  }

  objectIdOf(group: string): string | undefined {
    return this.byGroup.get(group);
  }

  namesPinnedTo(objectId: string): ReadonlySet<string> {
    return this.byObjectId.get(objectId) ?? EMPTY;
  }

  /** Pins a name, replacing its earlier pin. */
  put(pin: GroupPin): void {
    const previous = this.byGroup.get(pin.group);
    if (previous === pin.objectId) return;
    const name = pin.group.slice(GROUP_PREFIX.length);
    if (previous !== undefined) {
      const names = this.byObjectId.get(previous);
      names?.delete(name);
      if (names?.size === 0) this.byObjectId.delete(previous);
    }
    this.byGroup.set(pin.group, pin.objectId);
    const names = this.byObjectId.get(pin.objectId);
    if (names) names.add(name);
    else this.byObjectId.set(pin.objectId, new Set([name]));
  }
}
