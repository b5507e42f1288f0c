import type { Logger } from "pino";
import { GroupPinning } from "../core/group-pinning.js";
import type { GroupProvider } from "../core/identity.js";
import { pinnedGroupProvider } from "../core/pinned-groups.js";
import type { SnapshotSync } from "../core/snapshot-sync.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import type { RoleMappingStore } from "../core/store-port.js";
import type { Identity } from "./identity.js";

/** The authorizer's group provider, and the pinning that SetGroupRoles resolves names with (when pinned). */
export interface SidecarGroups {
  readonly groups: GroupProvider;
  readonly pinning: GroupPinning | undefined;
}

/** Groups as the identity gives them, or, where names are pinned, through the pins of the store's snapshot. */
export function buildGroups(
  identity: Identity,
  store: RoleMappingStore,
  sync: SnapshotSync,
  logger: Logger,
  metrics: SidecarMetrics,
): SidecarGroups {
  const pinned = identity.pinned;
  if (pinned === undefined) {
    if (identity.groups === undefined) throw new Error("the identity gives neither group names nor pins");
    return { groups: identity.groups, pinning: undefined };
  }
  const pinning = new GroupPinning({
    directory: pinned.directory,
    pinGroups: (pins) => store.pinGroups(pins),
    snapshot: () => sync.fresh(),
    write: (task) => sync.write(task),
    logger,
    onFirstUse: (outcome) => metrics.observeGroupPinFirstUse(outcome),
  });
  return { groups: pinnedGroupProvider(pinned.groups, pinning), pinning };
}
