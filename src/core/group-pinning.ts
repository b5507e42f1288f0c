import { InvalidArgumentError } from "./errors.js";
import type { GroupPins } from "./group-pin-index.js";
import type { DirectoryGroup, GroupDirectory, GroupPinCheck } from "./identity.js";
import type { CoreLogger } from "./logger-port.js";
import { settleLimited } from "./limited.js";
import type { GroupPin } from "./mapping.js";
import { GROUP_PREFIX, groupSubject } from "./subjects.js";
import type { Snapshot } from "./snapshot.js";

/** What happened to a granted name pinned on first use: pinned, or left unpinned because 2+ or 0 groups hold it. */
export type FirstUseOutcome = "pinned" | "ambiguous" | "not_found";

/** Resolves the names SetGroupRoles grants into pins. */
export interface GrantPinner {
  /** One pin per `group:` subject; InvalidArgumentError naming the first that does not name exactly one group. */
  pinsForGrant(groups: readonly string[]): Promise<GroupPin[]>;
}

/** What pinning needs: the directory, where pins are stored, and this replica's snapshot. */
export interface GroupPinningOptions {
  readonly directory: GroupDirectory;
  /** Stores pins of names that have none; answers the pins stored (the first writer of a name wins). */
  readonly pinGroups: (pins: readonly GroupPin[]) => Promise<GroupPin[]>;
  /** The snapshot decisions use (SnapshotSync.fresh). */
  readonly snapshot: () => Snapshot;
  /** Runs a store write and its snapshot update with no reload in between (SnapshotSync.write). */
  readonly write: <T>(task: (snapshot: Snapshot | undefined) => Promise<T>) => Promise<T>;
  readonly logger: CoreLogger;
  /** Told of each name pinned on first use, and once of each name that could not be (until it is). */
  readonly onFirstUse?: (outcome: FirstUseOutcome) => void;
  /** Name lookups in flight at once (default 4). */
  readonly concurrency?: number;
  /** How long a name held by several groups or none is not looked up again at first use (default 5 minutes). */
  readonly retryAfterMs?: number;
  /** How long a failed lookup's error is given again instead of asking once more (default 5 s). */
  readonly errorTtlMs?: number;
  readonly now?: () => number;
}

interface Failure {
  readonly until: number;
  /** Set when the directory could not answer: decisions needing the name fail closed meanwhile. */
  readonly error?: unknown;
}

/**
 * Pins group names to the directory object ids they had when granted, so that a group counts as
 * `group:<name>` only if it is the group the name was granted to (issue 13: Entra does not keep display names
 * unique, and any user may create a group). Grants through the API are pinned when written; a granted name
 * without a pin (written before pins, or outside the API) is pinned the first time a caller's group bears it,
 * when exactly one group holds it, and stored, so every replica and every restart agrees.
 */
export class GroupPinning implements GrantPinner {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly failures = new Map<string, Failure>();
  private readonly reported = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: GroupPinningOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The snapshot decisions use now. */
  snapshot(): Snapshot {
    return this.options.snapshot();
  }

  /** Looks every name up; refuses the first held by no group or by several, before anything is written. */
  async pinsForGrant(groups: readonly string[]): Promise<GroupPin[]> {
    const answers = await this.lookUp(groups);
    const pins = answers.map((answer, index): GroupPin => {
      if (answer.status === "rejected") throw answer.reason;
      const subject = groups[index] as string;
      if (answer.value.length !== 1) {
        throw new InvalidArgumentError(`groups[${index}]`, refusal(subject, answer.value.length));
      }
      return { group: subject, objectId: answer.value[0] as string };
    });
    for (const pin of pins) this.forget(pin.group);
    return pins;
  }

  /**
   * The names (without `group:`) a caller's directory groups count as: the names pinned to their object ids.
   * Granted names the caller's groups bear and that have no pin yet are pinned first. Also answers the snapshot
   * the names were read from.
   */
  async namesOf(groups: readonly DirectoryGroup[]): Promise<{ names: string[]; snapshot: Snapshot }> {
    const unpinned = this.dueForFirstUse(groups, this.snapshot());
    if (unpinned.length > 0) await this.pinOnFirstUse(unpinned);
    const snapshot = this.snapshot();
    return { names: matchedNames(groups, snapshot.pins), snapshot };
  }

  /** Per group, where it stands against the pins of `snapshot`. */
  checks(groups: readonly DirectoryGroup[], snapshot: Snapshot): GroupPinCheck[] {
    return groups.map((group) => {
      const pinned =
        group.name === undefined ? undefined : snapshot.pins.objectIdOf(groupSubject(group.name));
      return {
        objectId: group.id,
        name: group.name,
        pinnedObjectId: pinned,
        matched: pinned === group.id,
        countsAs: [...snapshot.pins.namesPinnedTo(group.id)].map(groupSubject).sort(),
      };
    });
  }

  // Granted names without a pin that these groups may bear: a listed group's own name, or, for a token's
  // groups (ids only), every granted name without a pin. Names failing lately are left out, or fail closed.
  private dueForFirstUse(groups: readonly DirectoryGroup[], snapshot: Snapshot): string[] {
    const unpinned = snapshot.unpinnedGroups();
    // Once every granted name is pinned (the steady state), there is nothing to look at.
    if (unpinned.size === 0) return [];
    const wanted = new Set<string>();
    let idsOnly = false;
    for (const group of groups) {
      if (group.name === undefined) idsOnly = true;
      else if (unpinned.has(groupSubject(group.name))) wanted.add(groupSubject(group.name));
    }
    if (idsOnly) for (const subject of unpinned) wanted.add(subject);
    return [...wanted].filter((subject) => this.due(subject));
  }

  private due(subject: string): boolean {
    const failure = this.failures.get(subject);
    if (failure === undefined) return true;
    if (failure.until <= this.now()) {
      this.failures.delete(subject);
      return true;
    }
    if (failure.error !== undefined) throw failure.error;
    return false;
  }

  // One lookup and store per name at a time, whichever decisions ask for it.
  private async pinOnFirstUse(subjects: readonly string[]): Promise<void> {
    const waits: Promise<void>[] = [];
    const fresh: string[] = [];
    for (const subject of subjects) {
      const running = this.inFlight.get(subject);
      if (running) waits.push(running);
      else fresh.push(subject);
    }
    if (fresh.length > 0) {
      const batch = this.resolveAndStore(fresh).finally(() => {
        for (const subject of fresh) this.inFlight.delete(subject);
      });
      for (const subject of fresh) this.inFlight.set(subject, batch);
      waits.push(batch);
    }
    await Promise.all(waits);
  }

  private async resolveAndStore(subjects: readonly string[]): Promise<void> {
    const answers = await this.lookUp(subjects);
    const pins: GroupPin[] = [];
    let error: unknown;
    answers.forEach((answer, index) => {
      const subject = subjects[index] as string;
      if (answer.status === "rejected") {
        error ??= answer.reason;
        this.failures.set(subject, {
          until: this.now() + (this.options.errorTtlMs ?? 5_000),
          error: answer.reason,
        });
      } else if (answer.value.length === 1)
        pins.push({ group: subject, objectId: answer.value[0] as string });
      else this.unresolved(subject, answer.value.length);
    });
    if (pins.length > 0) await this.store(pins);
    if (error !== undefined) throw error;
  }

  private async store(pins: readonly GroupPin[]): Promise<void> {
    const stored = await this.options.write(async (snapshot) => {
      const stored = await this.options.pinGroups(pins);
      snapshot?.putPins(stored);
      return stored;
    });
    for (const pin of stored) {
      this.forget(pin.group);
      this.options.logger.info(
        { event: "group_pinned", group: pin.group, object_id: pin.objectId },
        "a granted group name without a pin was pinned on first use",
      );
      this.options.onFirstUse?.("pinned");
    }
  }

  // Logged and counted once per name, until it resolves: a name stays ambiguous as long as nobody renames a group.
  private unresolved(subject: string, holders: number): void {
    this.failures.set(subject, { until: this.now() + (this.options.retryAfterMs ?? 300_000) });
    if (this.reported.has(subject)) return;
    this.reported.add(subject);
    const ambiguous = holders > 1;
    const line = { event: "group_pin_unresolved", group: subject, holders };
    if (ambiguous) {
      this.options.logger.error(
        line,
        "a granted group name is held by several Entra groups: it matches nobody until only one holds it, " +
          "or an operator grants it again (SetGroupRoles) once it does",
      );
    } else {
      this.options.logger.warn(line, "a granted group name is held by no Entra group: it matches nobody");
    }
    this.options.onFirstUse?.(ambiguous ? "ambiguous" : "not_found");
  }

  private forget(subject: string): void {
    this.failures.delete(subject);
    this.reported.delete(subject);
  }

  // The object ids of the groups bearing each `group:` subject's name, a few names at a time.
  private lookUp(subjects: readonly string[]): Promise<PromiseSettledResult<readonly string[]>[]> {
    return settleLimited(subjects, this.options.concurrency ?? 4, (subject) =>
      this.options.directory.holdersOf(subject.slice(GROUP_PREFIX.length)),
    );
  }
}

// The refusal of a grant: the name, and how many groups hold it.
function refusal(subject: string, holders: number): string {
  const held = holders === 0 ? "no Entra group holds it" : `${holders} Entra groups hold it`;
  return `"${subject}" cannot be granted: ${held}, and a granted group name must name exactly one group`;
}

// A name is pinned to one object id and a caller's groups have distinct ids, so no name comes twice.
function matchedNames(groups: readonly DirectoryGroup[], pins: GroupPins): string[] {
  const names: string[] = [];
  for (const group of groups) {
    const pinned = pins.namesPinnedTo(group.id);
    for (let i = 0; i < pinned.length; i++) names.push(pinned[i] as string);
  }
  return names;
}
