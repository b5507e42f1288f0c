import type { GroupPinning } from "./group-pinning.js";
import type { DirectoryGroup, DirectoryGroupProvider, GroupProvider } from "./identity.js";
import type { Snapshot } from "./snapshot.js";

interface Memo {
  readonly snapshot: Snapshot;
  readonly version: number;
  readonly names: readonly string[];
}

/**
 * The groups of a caller from a directory whose names are not unique: a group counts as `group:<name>` only
 * through the pin of that name (src/core/group-pinning.ts). The names are remembered per directory answer and
 * snapshot version, so a warm caller costs one lookup here (no directory or store call) and the same list
 * object comes back, which keeps the authorizer's principal cache valid.
 */
export function pinnedGroupProvider(directory: DirectoryGroupProvider, pinning: GroupPinning): GroupProvider {
  const memo = new WeakMap<readonly DirectoryGroup[], Memo>();

  async function namesOf(groups: readonly DirectoryGroup[]): Promise<readonly string[]> {
    const snapshot = pinning.snapshot();
    const known = memo.get(groups);
    if (known && known.snapshot === snapshot && known.version === snapshot.version) return known.names;
    const found = await pinning.namesOf(groups);
    const names = Object.freeze(found.names);
    memo.set(groups, { snapshot: found.snapshot, version: found.snapshot.version, names });
    return names;
  }

  return {
    async groupsOf(claims) {
      return namesOf(await directory.directoryGroupsOf(claims));
    },
    async pinChecks(claims) {
      const groups = await directory.directoryGroupsOf(claims);
      await namesOf(groups);
      return pinning.checks(groups, pinning.snapshot());
    },
  };
}
