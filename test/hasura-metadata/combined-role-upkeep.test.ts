import { describe, expect, it } from "vitest";
import { CombinedRoleRegistry } from "../../src/hasura-metadata/combined-role-registry.js";
import { CombinedRoleUpkeep } from "../../src/hasura-metadata/combined-role-upkeep.js";
import { MetadataApiError, type MetadataCall } from "../../src/hasura-metadata/metadata-client.js";
import { manualSchedule } from "../support/manual-schedule.js";
import { MemoryLedger } from "../support/memory-ledger.js";
import { RecordingLogger } from "../support/recording-logger.js";

// The registry's background rounds on a scheduler the test fires: which failure makes what come sooner.
const PERIOD_MS = 60_000;
const IDLE_MS = 7 * 24 * 3600_000;

function upkeepOf() {
  const clock = manualSchedule();
  const metadata = { exports: 0, down: false };
  const call = (async (type: string) => {
    if (type !== "export_metadata") return { message: "success" };
    metadata.exports++;
    if (metadata.down) throw new MetadataApiError("unreachable", "export_metadata: unreachable", undefined);
    return { inherited_roles: [{ role_name: "rm_r", role_set: ["orders", "sales"] }] };
  }) as MetadataCall;
  const ledger = new MemoryLedger();
  const logger = new RecordingLogger();
  const events: string[] = [];
  const onEvent = (event: string) => events.push(event);
  const registry = new CombinedRoleRegistry({
    call,
    prefix: "rm_",
    createTimeoutMs: 5_000,
    maxRoles: 100,
    logger,
    onEvent,
    idle: { ledger, idleMs: IDLE_MS, holder: "replica-0", now: () => 1_000_000 },
  });
  const upkeep = new CombinedRoleUpkeep(registry, {
    periodMs: PERIOD_MS,
    firstRetryMs: 250,
    maxRetryMs: 30_000,
    logger,
    onEvent,
    schedule: clock.schedule,
  });
  // Fires the round due in `ms` and waits for it.
  const after = async (ms: number) => {
    clock.fireAfter(ms);
    await upkeep.settled();
  };
  const lines = (event: string) =>
    logger.entries.map((entry) => entry.obj).filter((obj) => obj.event === event);
  return { clock, metadata, ledger, events, registry, upkeep, after, lines };
}

describe("CombinedRoleUpkeep", () => {
  it("tries only the ledger's part again sooner when the export succeeded, keeping the period for the export", async () => {
    const { clock, metadata, ledger, events, registry, upkeep, after, lines } = upkeepOf();
    ledger.down = true;
    upkeep.start();
    await after(0);
    expect(registry.roles().has("rm_r")).toBe(true);
    expect([metadata.exports, clock.pending()]).toEqual([1, [250, PERIOD_MS]]);
    await after(250);
    expect([metadata.exports, clock.pending()]).toEqual([1, [500, PERIOD_MS]]);
    ledger.down = false;
    await after(500);
    expect([metadata.exports, clock.pending()]).toEqual([1, [PERIOD_MS]]);
    await after(PERIOD_MS);
    expect([metadata.exports, clock.pending()]).toEqual([2, [PERIOD_MS]]);
    // The roles were learnt and used all along: neither the export's failure nor its recovery is reported.
    expect(lines("combined_roles_ledger_failed")).toEqual([
      { event: "combined_roles_ledger_failed", step: "sweep", err: "ledger: store unreachable" },
      { event: "combined_roles_ledger_failed", step: "sweep", err: "ledger: store unreachable" },
    ]);
    expect([lines("combined_roles_refresh_failed"), lines("combined_roles_learned")]).toEqual([[], []]);
    expect(events).toEqual(["ledger_failed", "ledger_failed"]);
    expect(ledger.rows.has("rm_r")).toBe(true);
  });

  it("lets a round due while the ledger's part waits for its retry do that part, backing off afresh", async () => {
    const { clock, metadata, ledger, upkeep, after } = upkeepOf();
    ledger.down = true;
    upkeep.start();
    await after(0);
    await after(250);
    expect(clock.pending()).toEqual([500, PERIOD_MS]);
    await after(PERIOD_MS);
    expect([metadata.exports, clock.pending()]).toEqual([2, [250, PERIOD_MS]]);
    upkeep.stop();
    expect(clock.pending()).toEqual([]);
  });

  it("backs the whole round off while the export fails, and says so once it answers again", async () => {
    const { clock, metadata, events, upkeep, after, lines } = upkeepOf();
    metadata.down = true;
    upkeep.start();
    await after(0);
    await after(250);
    expect(clock.pending()).toEqual([500]);
    expect(lines("combined_roles_refresh_failed").map((line) => line.retry_in_ms)).toEqual([250, 500]);
    metadata.down = false;
    await after(500);
    expect(clock.pending()).toEqual([PERIOD_MS]);
    expect(lines("combined_roles_learned")).toEqual([
      { event: "combined_roles_learned", roles: 1, failed_attempts: 2 },
    ]);
    expect(events).toEqual(["failed", "failed"]);
  });
});
