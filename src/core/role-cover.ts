import { createHash } from "node:crypto";
import type { Snapshot } from "./snapshot.js";

/** Most search steps one cover may take: past it no combination is offered, so a decision stays bounded. */
const MAX_COVER_STEPS = 100_000;

/** What combining roles allows: how many parents at most, and the prefix of the combined role's name. */
export interface CombineOptions {
  readonly maxParents: number;
  readonly prefix: string;
}

/**
 * The smallest set of held roles that together map every root field, at most `maxParents` of them: among sets
 * of that size, the first by sorted role ids. Undefined when none exists (or the search bound is reached).
 * Exact: sizes are tried in turn, and within a size the role ids in order, pruned when the roles left cannot
 * cover what remains.
 */
export function smallestCover(
  heldRoles: ReadonlySet<string>,
  rootFields: readonly string[],
  snapshot: Snapshot,
  maxParents: number,
): string[] | undefined {
  if (rootFields.length === 0) return undefined;
  const candidates = candidatesOf(heldRoles, rootFields, snapshot);
  const all = (1n << BigInt(rootFields.length)) - 1n;
  // What the candidates from index i on can still cover: a branch missing any of it is cut at once.
  const suffix: bigint[] = new Array<bigint>(candidates.length + 1).fill(0n);
  for (let i = candidates.length - 1; i >= 0; i--) suffix[i] = suffix[i + 1]! | candidates[i]!.mask;
  if (suffix[0] !== all) return undefined;
  let steps = 0;
  const chosen: number[] = [];
  const search = (from: number, covered: bigint, left: number): boolean => {
    if (covered === all) return true;
    if (left === 0 || ++steps > MAX_COVER_STEPS) return false;
    for (let i = from; i < candidates.length; i++) {
      if ((all & ~(covered | suffix[i]!)) !== 0n) return false;
      const next = covered | candidates[i]!.mask;
      if (next === covered) continue;
      chosen.push(i);
      if (search(i + 1, next, left - 1)) return true;
      chosen.pop();
    }
    return false;
  };
  for (let size = 1; size <= Math.min(maxParents, candidates.length); size++) {
    if (search(0, 0n, size)) return chosen.map((i) => candidates[i]!.role);
    if (steps > MAX_COVER_STEPS) return undefined;
  }
  return undefined;
}

/** Names kept so a warm combined decision hashes nothing; cleared whole when full (it only bounds memory). */
const NAMES_KEPT = 10_000;
const names = new Map<string, string>();

// The held roles mapping at least one of the fields, sorted by id, each with the fields it maps as bits.
function candidatesOf(
  heldRoles: ReadonlySet<string>,
  rootFields: readonly string[],
  snapshot: Snapshot,
): { readonly role: string; readonly mask: bigint }[] {
  const masks = new Map<string, bigint>();
  rootFields.forEach((field, index) => {
    const mapped = snapshot.rolesForField(field);
    // Walk the smaller of the two sets: held roles, or the roles mapped to the field.
    const [pool, other] = mapped.size <= heldRoles.size ? [mapped, heldRoles] : [heldRoles, mapped];
    for (const role of pool) {
      if (!other.has(role) || snapshot.isReserved(role)) continue;
      masks.set(role, (masks.get(role) ?? 0n) | (1n << BigInt(index)));
    }
  });
  return [...masks.keys()].sort().map((role) => ({ role, mask: masks.get(role)! }));
}

/** The combined role's name: the prefix and a digest of the sorted parents, the same on every replica. */
export function combinedRoleName(prefix: string, parents: readonly string[]): string {
  const key = prefix + JSON.stringify([...parents].sort());
  let name = names.get(key);
  if (name === undefined) {
    const digest = createHash("sha256").update(key.slice(prefix.length)).digest("hex");
    name = `${prefix}${digest.slice(0, 32)}`;
    if (names.size >= NAMES_KEPT) names.clear();
    names.set(key, name);
  }
  return name;
}
