import { describe, expect, it } from "vitest";
import { InvalidArgumentError, UnavailableError } from "../../src/core/errors.js";
import { GroupPinning, type FirstUseOutcome } from "../../src/core/group-pinning.js";
import type { DirectoryGroup, GroupDirectory } from "../../src/core/identity.js";
import type { GroupPin } from "../../src/core/mapping.js";
import { pinnedGroupProvider } from "../../src/core/pinned-groups.js";
import type { Snapshot } from "../../src/core/snapshot.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { snapshotOf } from "./fixtures.js";

/** A directory of name → holder ids that counts lookups, and can fail. */
class FakeDirectory implements GroupDirectory {
  readonly lookups: string[] = [];
  failure: Error | undefined;
  constructor(readonly holders: Record<string, string[]>) {}
  async holdersOf(name: string): Promise<readonly string[]> {
    this.lookups.push(name);
    if (this.failure) throw this.failure;
    return this.holders[name] ?? [];
  }
}

interface Setup {
  readonly pinning: GroupPinning;
  readonly directory: FakeDirectory;
  readonly stored: Map<string, string>;
  readonly writes: GroupPin[][];
  readonly logger: RecordingLogger;
  readonly outcomes: FirstUseOutcome[];
  readonly snapshot: () => Snapshot;
  readonly clock: { now: number };
}

// Roles: r_sales granted to group:sales, r_admin to group:admins; the store starts with `pins`.
function setup(holders: Record<string, string[]>, pins: GroupPin[] = []): Setup {
  const snapshot = snapshotOf(
    { r_sales: ["orders"], r_admin: ["salaries"] },
    { "group:sales": ["r_sales"], "group:admins": ["r_admin"] },
  );
  snapshot.putPins(pins);
  const stored = new Map(pins.map((pin) => [pin.group, pin.objectId]));
  const writes: GroupPin[][] = [];
  const directory = new FakeDirectory(holders);
  const logger = new RecordingLogger();
  const outcomes: FirstUseOutcome[] = [];
  const clock = { now: 1_000_000 };
  const pinning = new GroupPinning({
    directory,
    // First writer wins, as in every store.
    pinGroups: async (wanted) => {
      writes.push([...wanted]);
      for (const pin of wanted) if (!stored.has(pin.group)) stored.set(pin.group, pin.objectId);
      return wanted.map((pin) => ({ group: pin.group, objectId: stored.get(pin.group)! }));
    },
    snapshot: () => snapshot,
    write: (task) => task(snapshot),
    logger,
    onFirstUse: (outcome) => outcomes.push(outcome),
    now: () => clock.now,
  });
  return { pinning, directory, stored, writes, logger, outcomes, snapshot: () => snapshot, clock };
}

const pin = (name: string, objectId: string): GroupPin => ({ group: `group:${name}`, objectId });
const named = (id: string, name: string): DirectoryGroup => ({ id, name });

describe("GroupPinning.pinsForGrant (SetGroupRoles)", () => {
  it("pins each listed name to the one group holding it", async () => {
    const { pinning, directory } = setup({ sales: ["id-sales"], "O'Brien": ["id-ob"] });
    expect(await pinning.pinsForGrant(["group:sales", "group:O'Brien"])).toEqual([
      pin("sales", "id-sales"),
      pin("O'Brien", "id-ob"),
    ]);
    expect(directory.lookups.sort()).toEqual(["O'Brien", "sales"]);
  });

  it.each([
    [{ sales: ["id-1"], admins: ["id-2", "id-twin"] }, "groups[1]", "2 Entra groups hold it"],
    [{ sales: [], admins: [] }, "groups[0]", "no Entra group holds it"],
  ])(
    "refuses a name held by several groups or none, naming it and the count (%#)",
    async (holders, field, held) => {
      const { pinning } = setup(holders);
      const refusal = pinning.pinsForGrant(["group:sales", "group:admins"]);
      await expect(refusal).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(refusal).rejects.toMatchObject({ field });
      await expect(refusal).rejects.toThrow(held);
    },
  );

  it("fails as the directory does when it cannot answer", async () => {
    const { pinning, directory } = setup({ sales: ["id-sales"] });
    directory.failure = new UnavailableError("Microsoft Graph: HTTP 503");
    await expect(pinning.pinsForGrant(["group:sales"])).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("GroupPinning.namesOf (decisions)", () => {
  it("counts a group under a name only when the name is pinned to its id", async () => {
    const { pinning, directory } = setup({}, [pin("sales", "id-sales"), pin("admins", "id-admins")]);
    const real = await pinning.namesOf([named("id-sales", "sales")]);
    expect(real.names).toEqual(["sales"]);
    // A twin: same display name, another group.
    expect((await pinning.namesOf([named("id-twin", "admins")])).names).toEqual([]);
    // A renamed group keeps the name it was granted under.
    expect((await pinning.namesOf([named("id-admins", "admins (old)")])).names).toEqual(["admins"]);
    expect(directory.lookups).toEqual([]);
  });

  it("pins a granted name without a pin on first use, stores it, and looks it up only once", async () => {
    const { pinning, directory, stored, logger, outcomes, snapshot } = setup({ sales: ["id-sales"] });
    const before = snapshot().version;
    expect((await pinning.namesOf([named("id-sales", "sales")])).names).toEqual(["sales"]);
    expect(stored.get("group:sales")).toBe("id-sales");
    expect(snapshot().pins.objectIdOf("group:sales")).toBe("id-sales");
    expect(snapshot().version).toBeGreaterThan(before);
    expect((await pinning.namesOf([named("id-twin", "sales")])).names).toEqual([]);
    expect(directory.lookups).toEqual(["sales"]);
    expect(logger.events()).toEqual(["group_pinned"]);
    expect(outcomes).toEqual(["pinned"]);
  });

  it("looks up no name that is not granted", async () => {
    const { pinning, directory } = setup({ hobbies: ["id-h"] });
    expect((await pinning.namesOf([named("id-h", "hobbies")])).names).toEqual([]);
    expect(directory.lookups).toEqual([]);
  });

  it("lets an ambiguous name match nobody, logged and counted once, looked up again only after a while", async () => {
    const { pinning, directory, logger, outcomes, writes, clock } = setup({ admins: ["id-a", "id-twin"] });
    for (const id of ["id-a", "id-twin", "id-a"]) {
      expect((await pinning.namesOf([named(id, "admins")])).names).toEqual([]);
    }
    expect(directory.lookups).toEqual(["admins"]);
    expect(logger.entries).toMatchObject([
      { level: "error", obj: { event: "group_pin_unresolved", group: "group:admins", holders: 2 } },
    ]);
    expect(outcomes).toEqual(["ambiguous"]);
    clock.now += 300_000;
    await pinning.namesOf([named("id-a", "admins")]);
    expect(directory.lookups).toEqual(["admins", "admins"]);
    expect(logger.entries).toHaveLength(1);
    expect(writes).toEqual([]);
    // Once one holder is left, the next lookup pins it.
    directory.holders.admins = ["id-a"];
    clock.now += 300_000;
    expect((await pinning.namesOf([named("id-a", "admins")])).names).toEqual(["admins"]);
    expect(outcomes).toEqual(["ambiguous", "pinned"]);
  });

  it("lets a name held by no group match nobody, with a warning", async () => {
    const { pinning, logger, outcomes } = setup({});
    expect((await pinning.namesOf([named("id-x", "sales")])).names).toEqual([]);
    expect(logger.entries).toMatchObject([{ level: "warn", obj: { group: "group:sales", holders: 0 } }]);
    expect(outcomes).toEqual(["not_found"]);
  });

  it("keeps the pin another replica stored first", async () => {
    const { pinning, stored, snapshot } = setup({ sales: ["id-new"] });
    stored.set("group:sales", "id-first");
    expect((await pinning.namesOf([named("id-new", "sales")])).names).toEqual([]);
    expect(snapshot().pins.objectIdOf("group:sales")).toBe("id-first");
  });

  it("resolves every granted name without a pin for a token's groups (ids only)", async () => {
    const { pinning, directory } = setup({ sales: ["id-sales"], admins: ["id-admins"] });
    expect((await pinning.namesOf([{ id: "id-admins" }])).names).toEqual(["admins"]);
    expect(directory.lookups.sort()).toEqual(["admins", "sales"]);
    await pinning.namesOf([{ id: "id-sales" }]);
    expect(directory.lookups).toHaveLength(2);
  });

  it("shares one lookup and one write among concurrent first uses of a name", async () => {
    const { pinning, directory, writes } = setup({ sales: ["id-sales"] });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => pinning.namesOf([named("id-sales", "sales")])),
    );
    expect(answers.every((answer) => answer.names[0] === "sales")).toBe(true);
    expect(directory.lookups).toEqual(["sales"]);
    expect(writes).toHaveLength(1);
  });

  it("fails closed while the directory cannot answer, without asking again for a few seconds", async () => {
    const { pinning, directory, clock } = setup({ sales: ["id-sales"] });
    directory.failure = new UnavailableError("Microsoft Graph: HTTP 503");
    await expect(pinning.namesOf([named("id-sales", "sales")])).rejects.toBeInstanceOf(UnavailableError);
    await expect(pinning.namesOf([named("id-sales", "sales")])).rejects.toBeInstanceOf(UnavailableError);
    expect(directory.lookups).toHaveLength(1);
    directory.failure = undefined;
    clock.now += 5_000;
    expect((await pinning.namesOf([named("id-sales", "sales")])).names).toEqual(["sales"]);
  });

  it("reports per group whether its pin matched", async () => {
    const { pinning, snapshot } = setup({}, [pin("sales", "id-sales"), pin("admins", "id-admins")]);
    const groups = [
      named("id-sales", "sales"),
      named("id-twin", "admins"),
      named("id-h", "hobbies"),
      { id: "id-admins" },
    ];
    expect(pinning.checks(groups, snapshot())).toEqual([
      {
        objectId: "id-sales",
        name: "sales",
        pinnedObjectId: "id-sales",
        matched: true,
        countsAs: ["group:sales"],
      },
      { objectId: "id-twin", name: "admins", pinnedObjectId: "id-admins", matched: false, countsAs: [] },
      { objectId: "id-h", name: "hobbies", pinnedObjectId: undefined, matched: false, countsAs: [] },
      {
        objectId: "id-admins",
        name: undefined,
        pinnedObjectId: undefined,
        matched: false,
        countsAs: ["group:admins"],
      },
    ]);
  });
});

describe("pinnedGroupProvider", () => {
  it("answers a warm caller with the same list and no directory or store call, until the pins change", async () => {
    const { pinning, directory, writes, snapshot } = setup({ sales: ["id-sales"] });
    const groups = Object.freeze([named("id-sales", "sales"), named("id-other", "other")]);
    const provider = pinnedGroupProvider({ directoryGroupsOf: async () => groups }, pinning);
    const first = await provider.groupsOf({});
    expect(first).toEqual(["sales"]);
    const calls = [directory.lookups.length, writes.length];
    for (let i = 0; i < 5; i++) expect(await provider.groupsOf({})).toBe(first);
    expect([directory.lookups.length, writes.length]).toEqual(calls);
    snapshot().putPins([pin("sales", "id-elsewhere")]);
    expect(await provider.groupsOf({})).toEqual([]);
  });

  it("gives per-group checks for ExplainDecision", async () => {
    const { pinning } = setup({}, [pin("sales", "id-sales")]);
    const provider = pinnedGroupProvider(
      { directoryGroupsOf: async () => [named("id-twin", "sales")] },
      pinning,
    );
    expect(await provider.pinChecks!({})).toMatchObject([{ pinnedObjectId: "id-sales", matched: false }]);
  });
});
