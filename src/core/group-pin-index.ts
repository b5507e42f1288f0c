import type { GroupPin } from "./mapping.js";
import { GROUP_PREFIX } from "./subjects.js";

const EMPTY: readonly string[] = [];

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
  namesPinnedTo(objectId: string): readonly string[];
}

/** Group pins indexed both ways: each name's object id, and the names pinned to each object id. */
export class GroupPinIndex implements GroupPins {
  private readonly byGroup = new Map<string, string>();
  // Arrays rather than sets: decisions read them for every group of a caller, writes are rare.
  private readonly byObjectId = new Map<string, readonly string[]>();

  get size(): number {
    return this.byGroup.size;
  }

  objectIdOf(group: string): string | undefined {
    return this.byGroup.get(group);
  }

  namesPinnedTo(objectId: string): readonly string[] {
    return this.byObjectId.get(objectId) ?? EMPTY;
  }

  /** Unpins a name. */
  delete(group: string): void {
    const previous = this.byGroup.get(group);
    if (previous === undefined) return;
    this.byGroup.delete(group);
    const name = group.slice(GROUP_PREFIX.length);
    const others = this.namesPinnedTo(previous).filter((other) => other !== name);
    if (others.length === 0) this.byObjectId.delete(previous);
    else this.byObjectId.set(previous, others);
  }

  /** Pins a name, replacing its earlier pin. */
  put(pin: GroupPin): void {
    if (this.byGroup.get(pin.group) === pin.objectId) return;
    this.delete(pin.group);
    this.byGroup.set(pin.group, pin.objectId);
    const name = pin.group.slice(GROUP_PREFIX.length);
    this.byObjectId.set(pin.objectId, [...this.namesPinnedTo(pin.objectId), name]);
  }
}
