import { Counter, type Registry } from "prom-client";
import type { SyncActivity } from "../core/sync-counters.js";

/**
 * How the snapshot follows the store, as counters mirrored from the sync's own totals at each scrape: full loads
 * by reason (a steady count of `start` and `periodic` is the healthy picture), roles and pins reloaded from the
 * journal, and safety-net checks by outcome (`mismatch` means the journal missed a change).
 */
export function watchSyncActivity(registry: Registry, prefix: string, read: () => SyncActivity): void {
  const registers = [registry];
  new Counter({
    name: `${prefix}snapshot_full_loads_total`,
    help: "Full loads of the mappings by reason (start, changed, periodic, checksum, pruned, truncated, reset, missing, too_many, unchecked, requested)",
    labelNames: ["reason"],
    registers,
    collect() {
      this.reset();
      for (const [reason, count] of Object.entries(read().fullLoads)) this.inc({ reason }, count);
    },
  });
  new Counter({
    name: `${prefix}snapshot_catch_ups_total`,
    help: "Changes followed from the journal, each reloading only the roles and pins others changed",
    registers,
    collect() {
      this.reset();
      this.inc(read().catchUps);
    },
  });
  new Counter({
    name: `${prefix}snapshot_reloaded_total`,
    help: "Roles and group pins reloaded from the journal, by kind (role, group_pin)",
    labelNames: ["kind"],
    registers,
    collect() {
      const activity = read();
      this.reset();
      this.inc({ kind: "role" }, activity.rolesReloaded);
      this.inc({ kind: "group_pin" }, activity.pinsReloaded);
    },
  });
  new Counter({
    name: `${prefix}snapshot_checks_total`,
    help: "Safety-net checks of the snapshot's checksum against the store's, by outcome (match, mismatch, untaken)",
    labelNames: ["outcome"],
    registers,
    collect() {
      this.reset();
      for (const [outcome, count] of Object.entries(read().checks)) this.inc({ outcome }, count);
    },
  });
}
