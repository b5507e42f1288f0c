import { describe, expect, it } from "vitest";
import { CombinedRoleLedgerMissing } from "../../src/core/combined-roles.js";
import { CombinedRoleRegistry } from "../../src/hasura-metadata/combined-role-registry.js";
import { SWEEP_MAX, TRUST_MARGIN_MS } from "../../src/hasura-metadata/combined-role-uses.js";
import { MetadataApiError, type MetadataCall } from "../../src/hasura-metadata/metadata-client.js";
import { MemoryLedger } from "../support/memory-ledger.js";
import { RecordingLogger } from "../support/recording-logger.js";

// COMBINED_ROLE_IDLE_S across replicas: several registries over one metadata and one ledger, on one injected clock.
const IDLE_MS = 7 * 24 * 3600_000;
const PARENTS = ["orders", "sales"];
// Longer than any sweep's hold.
const HOUR_MS = 3600_000;

/** Hasura's inherited roles in memory, with every call recorded, and a gate to hold drops. */
function fakeMetadata() {
  const roles = new Map<string, readonly string[]>();
  const calls: string[] = [];
  // Roles whose drop Hasura refuses.
  const undroppable = new Set<string>();
  let held: Promise<void> | undefined;
  let nextDropHeld: Promise<void> | undefined;
  let exportHeld: Promise<void> | undefined;
  let addHeld: Promise<void> | undefined;
  const call = (async (type: string, args: Record<string, unknown>) => {
    const name = args.role_name as string;
    calls.push(name ? `${type} ${name}` : type);
    if (type === "export_metadata") {
      const answer = {
        inherited_roles: [...roles].map(([role_name, role_set]) => ({ role_name, role_set })),
      };
      const onItsWay = exportHeld;
      exportHeld = undefined;
      await onItsWay;
      return answer;
    }
    if (type === "add_inherited_role") {
      roles.set(name, args.role_set as string[]);
      const onItsWay = addHeld;
      addHeld = undefined;
      await onItsWay;
    }
    if (type === "drop_inherited_role") {
      const onItsWay = nextDropHeld;
      nextDropHeld = undefined;
      await Promise.all([held, onItsWay]);
      if (undroppable.has(name))
        throw new MetadataApiError("unexpected", "drop_inherited_role: refused", 500);
      if (!roles.delete(name)) throw new MetadataApiError("not-exists", "no such role", 400);
    }
    return { message: "success" };
  }) as MetadataCall;
  const hold = () => {
    let release!: () => void;
    held = new Promise((resolve) => (release = resolve));
    return () => {
      held = undefined;
      release();
    };
  };
  // The next export is answered at once but arrives only once released.
  const holdNextExport = () => {
    let release!: () => void;
    exportHeld = new Promise((resolve) => (release = resolve));
    return release;
  };
  // The next creation is made at once but answered only once released.
  const holdNextAdd = () => {
    let release!: () => void;
    addHeld = new Promise((resolve) => (release = resolve));
    return release;
  };
  // The next drop (only) waits until released.
  const holdNextDrop = () => {
    let release!: () => void;
    nextDropHeld = new Promise((resolve) => (release = resolve));
    return release;
  };
  return { roles, calls, call, hold, holdNextExport, holdNextDrop, holdNextAdd, undroppable };
}

function cluster(replicas: number) {
  const clock = { now: 1_000_000 };
  const metadata = fakeMetadata();
  const ledger = new MemoryLedger();
  const make = (holder: string) => {
    const logger = new RecordingLogger();
    const events: string[] = [];
    const registry = new CombinedRoleRegistry({
      call: metadata.call,
      prefix: "rm_",
      createTimeoutMs: 5_000,
      maxRoles: 1000,
      logger,
      onEvent: (event) => events.push(event),
      idle: {
        ledger,
        idleMs: IDLE_MS,
        holder,
        now: () => clock.now,
        sleep: (ms) =>
          new Promise<void>((resolve) => setImmediate(resolve)).then(() => void (clock.now += ms)),
      },
    });
    return { registry, logger, events };
  };
  const nodes = Array.from({ length: replicas }, (_, i) => make(`replica-${i}`));
  return { clock, metadata, ledger, nodes };
}

/** What a request needing `name` does: the warm lookup, else the creation (as the authorizer calls them). */
async function answer(registry: CombinedRoleRegistry, name: string): Promise<"warm" | "made"> {
  if (registry.exists(name)) return "warm";
  await registry.ensure(name, PARENTS);
  return "made";
}

const drops = (logger: RecordingLogger) =>
  logger.entries.filter((entry) => (entry.obj as { event?: string }).event === "combined_role_dropped");

describe("combined roles idle on every replica", () => {
  it("are dropped by one replica, with one line and a count each; the others never answer them again unasked", async () => {
    const { clock, metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    expect(await answer(a!.registry, "rm_r")).toBe("made");
    await b!.registry.upkeep();
    // Learnt from the metadata, but never recorded as used by b: b asks the ledger first.
    expect(b!.registry.exists("rm_r")).toBe(false);
    expect(await answer(b!.registry, "rm_r")).toBe("made");
    expect(metadata.calls.filter((call) => call.startsWith("add_"))).toEqual(["add_inherited_role rm_r"]);
    expect(await answer(b!.registry, "rm_r")).toBe("warm");

    clock.now += IDLE_MS + 1;
    expect(b!.registry.exists("rm_r")).toBe(false);
    await a!.registry.upkeep();
    await b!.registry.upkeep();
    expect(metadata.roles.has("rm_r")).toBe(false);
    expect(drops(a!.logger).map((entry) => entry.obj)).toEqual([
      {
        event: "combined_role_dropped",
        role: "rm_r",
        parent_roles: PARENTS,
        reason: "idle",
        idle_s: IDLE_MS / 1000,
      },
    ]);
    expect(a!.events).toEqual(["created", "dropped"]);
    expect(drops(b!.logger)).toEqual([]);
    expect([a!.registry.roles().has("rm_r"), b!.registry.roles().has("rm_r")]).toEqual([false, false]);

    // A request needing it again makes it again.
    expect(await answer(b!.registry, "rm_r")).toBe("made");
    expect(metadata.roles.get("rm_r")).toEqual(PARENTS);
  });

  it("keeps a role another replica keeps using", async () => {
    const { clock, metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    await answer(a!.registry, "rm_r");
    for (let day = 0; day < 14; day++) {
      clock.now += 24 * 3600_000;
      expect(await answer(b!.registry, "rm_r")).toBe(day === 0 ? "made" : "warm");
      await b!.registry.upkeep();
      await a!.registry.upkeep();
    }
    expect(metadata.roles.has("rm_r")).toBe(true);
    expect([...drops(a!.logger), ...drops(b!.logger)]).toEqual([]);
  });

  it("never lets a replica answer a role being dropped: a use during the drop waits for it, then makes it again", async () => {
    const { clock, metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    await answer(b!.registry, "rm_r");
    expect(await answer(b!.registry, "rm_r")).toBe("warm");
    clock.now += IDLE_MS - TRUST_MARGIN_MS;
    // b's trust ends before any sweeper may claim the role, whatever b used without recording yet.
    expect(b!.registry.exists("rm_r")).toBe(false);
    clock.now += TRUST_MARGIN_MS + 1;
    await a!.registry.refresh();
    const release = metadata.hold();
    const sweeping = a!.registry.upkeep();
    await expect.poll(() => metadata.calls.at(-1)).toBe("drop_inherited_role rm_r");
    const needing = answer(b!.registry, "rm_r");
    release();
    await sweeping;
    expect(await needing).toBe("made");
    expect(metadata.calls.slice(-2)).toEqual(["drop_inherited_role rm_r", "add_inherited_role rm_r"]);
    expect(metadata.roles.has("rm_r")).toBe(true);
  });

  it("lets a use on the sweeping replica itself wait for its own drop, then make the role again", async () => {
    const { clock, metadata, nodes } = cluster(1);
    const [a] = nodes;
    await answer(a!.registry, "rm_r");
    clock.now += IDLE_MS + 1;
    const release = metadata.hold();
    const sweeping = a!.registry.upkeep();
    await expect.poll(() => metadata.calls.at(-1)).toBe("drop_inherited_role rm_r");
    const needing = answer(a!.registry, "rm_r");
    release();
    await sweeping;
    expect(await needing).toBe("made");
    expect(metadata.calls.slice(-2)).toEqual(["drop_inherited_role rm_r", "add_inherited_role rm_r"]);
  });

  it("records no use of a role another replica dropped with its parent meanwhile: no row comes back for it", async () => {
    const { metadata, ledger, nodes } = cluster(2);
    const [a, b] = nodes;
    await answer(a!.registry, "rm_r");
    expect(await answer(a!.registry, "rm_r")).toBe("warm");
    await b!.registry.dropWithParent("sales");
    expect([metadata.roles.has("rm_r"), ledger.rows.has("rm_r")]).toEqual([false, false]);
    await a!.registry.upkeep();
    expect(ledger.rows.has("rm_r")).toBe(false);
    expect(a!.registry.roles().has("rm_r")).toBe(false);
    // A request needing it again makes it again.
    expect(await answer(a!.registry, "rm_r")).toBe("made");
    expect(metadata.roles.get("rm_r")).toEqual(PARENTS);
  });

  it("forgets the roles of a parent deleted elsewhere, even those of an export answered before the drop", async () => {
    const { metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    await answer(a!.registry, "rm_r");
    await answer(a!.registry, "rm_other");
    metadata.roles.set("rm_other", ["orders", "stock"]);
    await b!.registry.refresh();
    expect([...b!.registry.roles().keys()].sort()).toEqual(["rm_other", "rm_r"]);
    // The export is answered (with rm_r) before the delete drops rm_r, and arrives after b learnt of it.
    const release = metadata.holdNextExport();
    const refreshing = b!.registry.refresh();
    await a!.registry.dropWithParent("sales");
    b!.registry.forgetWithParents(["sales"]);
    release();
    await refreshing;
    expect([...b!.registry.roles().keys()]).toEqual(["rm_other"]);
    const forgotten = b!.logger.entries.filter(
      (entry) => (entry.obj as { event?: string }).event === "combined_role_forgotten",
    );
    expect(forgotten.map((entry) => entry.obj)).toEqual([
      { event: "combined_role_forgotten", role: "rm_r", parent_roles: PARENTS, deleted_role: "sales" },
    ]);
    // A request needing it again makes it again.
    expect(await answer(b!.registry, "rm_r")).toBe("made");
    expect(metadata.roles.get("rm_r")).toEqual(PARENTS);
  });

  it("forgets a role it made itself while an export was on its way, once a parent is deleted elsewhere", async () => {
    const { metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    const release = metadata.holdNextExport();
    const refreshing = b!.registry.refresh();
    expect(await answer(b!.registry, "rm_r")).toBe("made");
    await a!.registry.dropWithParent("sales");
    b!.registry.forgetWithParents(["sales"]);
    release();
    await refreshing;
    expect(b!.registry.roles().has("rm_r")).toBe(false);
    expect(await answer(b!.registry, "rm_r")).toBe("made");
  });

  it("stops dropping once the sweep's hold is over: a use recorded since keeps its role", async () => {
    const { clock, metadata, ledger, nodes } = cluster(2);
    const [a, b] = nodes;
    for (const name of ["rm_1", "rm_2", "rm_3"]) {
      await answer(a!.registry, name);
      clock.now += 1;
    }
    clock.now += IDLE_MS;
    const release = metadata.holdNextDrop();
    const sweeping = a!.registry.upkeep();
    await expect.poll(() => metadata.calls.at(-1)).toBe("drop_inherited_role rm_1");
    // The first drop outlasts the sweep's hold: b's use of rm_2 is recorded, and b answers it from then on.
    clock.now += HOUR_MS;
    expect(await answer(b!.registry, "rm_2")).toBe("made");
    release();
    await sweeping;
    expect(metadata.calls.filter((call) => call.startsWith("drop_"))).toEqual(["drop_inherited_role rm_1"]);
    expect([metadata.roles.has("rm_2"), await answer(b!.registry, "rm_2")]).toEqual([true, "warm"]);
    // rm_3, unused, is released and left to the next sweep.
    expect(ledger.rows.get("rm_3")?.dropUntil).toBeUndefined();
    await a!.registry.upkeep();
    expect(metadata.calls.filter((call) => call.startsWith("drop_")).at(-1)).toBe("drop_inherited_role rm_3");
  });

  it("drops no claimed role the ledger no longer shows held: one dropped with its parent and made again", async () => {
    const { clock, metadata, ledger, nodes } = cluster(3);
    const [a, b, c] = nodes;
    await a!.registry.ensure("rm_1", ["orders", "stock"]);
    clock.now += 1;
    await answer(a!.registry, "rm_2");
    clock.now += IDLE_MS + 1;
    const release = metadata.holdNextDrop();
    const sweeping = a!.registry.upkeep();
    await expect.poll(() => metadata.calls.at(-1)).toBe("drop_inherited_role rm_1");
    // Meanwhile (no clock moves) b's DeleteRole drops rm_2 and forgets its row; c makes it again.
    await b!.registry.dropWithParent("sales");
    await c!.registry.ensure("rm_2", PARENTS);
    expect(ledger.rows.get("rm_2")?.dropUntil).toBeUndefined();
    release();
    await sweeping;
    expect(metadata.roles.has("rm_2")).toBe(true);
    expect(drops(a!.logger).map((entry) => (entry.obj as { role: string }).role)).toEqual(["rm_1"]);
  });

  it("forgets a dropped role only under its own hold: one another sweeper took over stays held", async () => {
    const { clock, metadata, ledger, nodes } = cluster(2);
    const [a, b] = nodes;
    await answer(a!.registry, "rm_r");
    clock.now += IDLE_MS + 1;
    const releaseA = metadata.holdNextDrop();
    const sweepingA = a!.registry.upkeep();
    await expect.poll(() => metadata.calls.at(-1)).toBe("drop_inherited_role rm_r");
    // a's drop outlasts its hold: b's sweep claims the role and drops it too.
    clock.now += HOUR_MS;
    const releaseB = metadata.holdNextDrop();
    const sweepingB = b!.registry.upkeep();
    await expect.poll(() => metadata.calls.filter((call) => call.startsWith("drop_")).length).toBe(2);
    const heldByB = ledger.rows.get("rm_r")?.dropUntil;
    expect(heldByB).toBeGreaterThan(clock.now);
    releaseA();
    await sweepingA;
    // Still b's to drop: a use meanwhile waits for b's drop instead of finding no row and making the role.
    expect(ledger.rows.get("rm_r")?.dropUntil).toBe(heldByB);
    releaseB();
    await sweepingB;
    expect(ledger.rows.has("rm_r")).toBe(false);
  });

  it("goes on after a drop Hasura refuses, which is logged and counted, and releases that role at once", async () => {
    const { clock, metadata, ledger, nodes } = cluster(1);
    const [a] = nodes;
    for (const name of ["rm_1", "rm_2", "rm_3"]) {
      await answer(a!.registry, name);
      clock.now += 1;
    }
    clock.now += IDLE_MS;
    metadata.undroppable.add("rm_2");
    await expect(a!.registry.upkeep()).rejects.toThrow("combined roles: sweep failed");
    expect([...metadata.roles.keys()]).toEqual(["rm_2"]);
    const failed = a!.logger.entries.filter(
      (entry) => (entry.obj as { event?: string }).event === "combined_role_drop_failed",
    );
    expect(failed.map((entry) => entry.obj)).toEqual([
      {
        event: "combined_role_drop_failed",
        role: "rm_2",
        parent_roles: PARENTS,
        err: "combined roles: Hasura's metadata API failed (drop_inherited_role): drop_inherited_role: refused",
      },
    ]);
    // Counted as rolemapper_combined_roles_total{event="failed"}; the ledger did not fail.
    expect(a!.events.slice(3)).toEqual(["dropped", "failed", "dropped"]);
    expect(a!.logger.events()).not.toContain("combined_roles_ledger_failed");
    // Released: a request needing it is answered now, not denied until the sweep's hold ends.
    expect(ledger.rows.get("rm_2")?.dropUntil).toBeUndefined();
    expect(await answer(a!.registry, "rm_2")).toBe("made");
  });

  type DeleteSales = (a: CombinedRoleRegistry, b: CombinedRoleRegistry) => Promise<void>;
  const deletions: [string, DeleteSales, string][] = [
    [
      "deleted through another replica",
      async (a, b) => {
        await a.dropWithParent("sales");
        b.forgetWithParents(["sales"]);
      },
      'lost its parent "sales" (deleted)',
    ],
    ["deleted through this replica", (_a, b) => b.dropWithParent("sales"), "was dropped"],
  ];

  it.each(deletions)(
    "adds no role whose parent was %s while Hasura's answer to its creation was on its way: its request is denied",
    async (_how, deleteSales, why) => {
      const { metadata, nodes } = cluster(2);
      const [a, b] = nodes;
      const release = metadata.holdNextAdd();
      const needing = answer(b!.registry, "rm_r");
      await expect.poll(() => metadata.calls.at(-1)).toBe("add_inherited_role rm_r");
      await deleteSales(a!.registry, b!.registry);
      expect(metadata.roles.has("rm_r")).toBe(false);
      release();
      await expect(needing).rejects.toThrow(`combined role "rm_r" ${why} while it was being created`);
      expect(b!.registry.roles().has("rm_r")).toBe(false);
      expect(b!.logger.events()).toContain("combined_role_unavailable");
      expect(b!.events.at(-1)).toBe("failed");
      // Once the role is back, the next request makes it again.
      expect(await answer(b!.registry, "rm_r")).toBe("made");
      expect(metadata.roles.get("rm_r")).toEqual(PARENTS);
    },
  );

  it("sweeps on one replica at a time, at most SWEEP_MAX roles per sweep", async () => {
    const { clock, metadata, nodes } = cluster(2);
    const [a, b] = nodes;
    for (let i = 0; i < SWEEP_MAX + 5; i++) await answer(a!.registry, `rm_${i}`);
    clock.now += IDLE_MS + 1;
    await a!.registry.upkeep();
    await b!.registry.upkeep();
    expect([drops(a!.logger).length, drops(b!.logger).length]).toEqual([SWEEP_MAX, 0]);
    clock.now += 60_000;
    await a!.registry.upkeep();
    expect(drops(a!.logger)).toHaveLength(SWEEP_MAX + 5);
    expect(metadata.roles.size).toBe(0);
  });

  it("drops the roles made before the ledger existed once they have been idle since first seen", async () => {
    const { clock, metadata, ledger, nodes } = cluster(1);
    const [a] = nodes;
    metadata.roles.set("rm_old", PARENTS);
    await a!.registry.upkeep();
    expect(ledger.rows.has("rm_old")).toBe(true);
    clock.now += IDLE_MS + 1;
    await a!.registry.upkeep();
    expect(metadata.roles.has("rm_old")).toBe(false);
  });

  it("keeps every role, saying so once, when the store has no ledger table", async () => {
    const { clock, metadata, ledger, nodes } = cluster(1);
    const [a] = nodes;
    const missing = new CombinedRoleLedgerMissing("relation rolemapping_combined_roles does not exist");
    ledger.recordUses = () => Promise.reject(missing);
    ledger.touchUses = () => Promise.reject(missing);
    ledger.takeSweep = () => Promise.reject(missing);
    expect(await answer(a!.registry, "rm_r")).toBe("made");
    expect(await answer(a!.registry, "rm_r")).toBe("warm");
    clock.now += 2 * IDLE_MS;
    await a!.registry.upkeep();
    expect(await answer(a!.registry, "rm_r")).toBe("warm");
    expect(metadata.roles.has("rm_r")).toBe(true);
    expect(a!.logger.events().filter((event) => event === "combined_roles_ledger_missing")).toHaveLength(1);
  });

  it("learns the roles from the metadata while the ledger fails, saying which step failed, and fails the round", async () => {
    const { metadata, ledger, nodes } = cluster(1);
    const [a] = nodes;
    await answer(a!.registry, "rm_r");
    expect(await answer(a!.registry, "rm_r")).toBe("warm");
    metadata.roles.set("rm_other", PARENTS);
    ledger.down = true;
    await expect(a!.registry.upkeep()).rejects.toThrow("combined roles: flush and sweep failed");
    expect([...a!.registry.roles().keys()].sort()).toEqual(["rm_other", "rm_r"]);
    const failed = a!.logger.entries.filter(
      (entry) => (entry.obj as { event?: string }).event === "combined_roles_ledger_failed",
    );
    expect(failed.map((entry) => entry.obj)).toEqual([
      { event: "combined_roles_ledger_failed", step: "flush", err: "ledger: store unreachable" },
      { event: "combined_roles_ledger_failed", step: "sweep", err: "ledger: store unreachable" },
    ]);
    expect(a!.events).toEqual(["created", "ledger_failed", "ledger_failed"]);
  });

  it("denies a role it cannot record a use of while the store is down", async () => {
    const { ledger, nodes } = cluster(1);
    const [a] = nodes;
    ledger.down = true;
    await expect(answer(a!.registry, "rm_r")).rejects.toThrow(/store unreachable/);
    expect(a!.events).toEqual(["failed"]);
  });
});
