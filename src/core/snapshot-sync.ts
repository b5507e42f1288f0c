import { UnavailableError } from "./errors.js";
import { catchUp } from "./journal-catch-up.js";
import { reservedRoleIds } from "./reserved-roles.js";
import { SafetyNet } from "./safety-net.js";
import { StoreContact } from "./store-contact.js";
import { Snapshot } from "./snapshot.js";
import type { SnapshotStats, SnapshotSyncOptions } from "./snapshot-sync-options.js";
import { SyncCounters, type FullLoadReason } from "./sync-counters.js";
import type { RoleMappingStore } from "./store-port.js";

export type { SnapshotStats, SnapshotSyncOptions } from "./snapshot-sync-options.js";

/**
 * Keeps this replica's snapshot in step with the store: loaded at start; when the change marker moves, only the
 * roles the journal lists as changed by others are reloaded (src/core/journal-catch-up.ts); a safety net compares
 * checksums every verify period and reloads everything only when they differ or the journal cannot tell. Writes
 * through the core, catch-ups and reloads share one queue, so none can put back a state older than a write this
 * replica already applied.
 */
export class SnapshotSync {
  private current: Snapshot | undefined;
  private marker: string | undefined;
  private lastFullLoad = 0;
  /** Until when the journal is taken as missing (re-probed every verify period). */
  private journalMissingUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  private polling = false;
  private pollAgain = false;
  private readonly queue = new SerialQueue();
  private readonly maxQueuedWrites: number;
  private queuedWrites = 0;
  private readonly now: () => number;
  private readonly reservedRoles: ReadonlySet<string>;
  private readonly counters = new SyncCounters();
  private readonly health: StoreContact;
  private readonly safetyNet: SafetyNet;
  private readonly deletionListeners: ((roleIds: readonly string[]) => void)[] = [];

  constructor(
    private readonly store: RoleMappingStore,
    private readonly options: SnapshotSyncOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.health = new StoreContact(options.logger, options.maxStalenessMs, this.now);
    this.safetyNet = new SafetyNet(options.verifyMs, options.logger, options.random);
    this.maxQueuedWrites = options.maxQueuedWrites ?? 1_000;
    this.reservedRoles = options.reservedRoles ?? reservedRoleIds();
  }

  /**
   * Follows the store, trying the first load at once. A store that is not up yet (Hasura starting beside the
   * sidecar in its pod) is no error: the load is retried at every poll, and ready() stays false until it succeeds.
   */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.poll(), this.options.pollMs);
    this.timer.unref();
    if ((this.options.listen ?? true) && this.store.watchChanges) {
      this.unwatch = this.store.watchChanges(() => void this.poll());
    }
    await this.poll();
  }

  /** True once a snapshot has been loaded. */
  loaded(): boolean {
    return this.current !== undefined;
  }

  /** Stops following the store. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    void this.unwatch?.();
    this.unwatch = undefined;
  }

  /** The snapshot to decide with; UnavailableError when there is none or the store has been away too long. */
  fresh(): Snapshot {
    if (!this.current) throw new UnavailableError("role mappings not loaded yet");
    if (!this.health.fresh()) {
      this.noteStaleness();
      throw new UnavailableError(`role mappings are stale: store unreachable for ${this.staleForMs()} ms`);
    }
    return this.current;
  }

  /** True when a snapshot is loaded and within the staleness bound. */
  ready(): boolean {
    return this.current !== undefined && this.health.fresh();
  }

  /** Milliseconds since the store last answered. */
  staleForMs(): number {
    return this.health.staleForMs();
  }

  /** The snapshot's age and size, for metrics; `loaded` is false (and the rest zero) before the first load. */
  stats(): SnapshotStats {
    if (!this.current) {
      const activity = this.counters.activity();
      return {
        loaded: false,
        ageMs: 0,
        staleForMs: 0,
        roles: 0,
        grants: 0,
        reservedRowsIgnored: 0,
        activity,
      };
    }
    return {
      loaded: true,
      ageMs: this.now() - this.lastFullLoad,
      staleForMs: this.staleForMs(),
      roles: this.current.roleCount,
      grants: this.current.grants,
      reservedRowsIgnored: this.current.ignoredReserved.rows,
      activity: this.counters.activity(),
    };
  }

  /**
   * Tells `listener` of the roles the snapshot held and another replica (or the store directly) deleted, once they
   * are gone from it: after a catch-up or a full load. This replica's own deletes are not told.
   */
  onRolesDeleted(listener: (roleIds: readonly string[]) => void): void {
    this.deletionListeners.push(listener);
  }

  /** Runs a write and its snapshot update with no reload in between. */
  write<T>(task: (snapshot: Snapshot | undefined) => Promise<T>): Promise<T> {
    // A slow store must not let writes pile up without end: past the bound they fail at once, retryable.
    if (this.queuedWrites >= this.maxQueuedWrites) {
      return Promise.reject(
        new UnavailableError(`more than ${this.maxQueuedWrites} writes waiting for the store`),
      );
    }
    this.queuedWrites++;
    return this.queue
      .run(async () => {
        const result = await task(this.current);
        this.contact();
        return result;
      })
      .finally(() => {
        this.queuedWrites--;
      });
  }

  /**
   * Checks the change marker once: catches up when it moved, runs the safety net when due. A call while one runs
   * (a notification arriving mid-poll) makes that one check again once done, so no change waits for the timer.
   */
  async poll(): Promise<void> {
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    this.polling = true;
    try {
      do {
        this.pollAgain = false;
        await this.pollOnce();
      } while (this.pollAgain);
    } finally {
      this.polling = false;
    }
  }

  /** Reloads everything now. */
  reload(): Promise<void> {
    return this.queue.run(() => this.load("requested"));
  }

  private async pollOnce(): Promise<void> {
    try {
      if (this.current === undefined) await this.queue.run(() => this.load("start"));
      else if (this.followsJournal()) await this.queue.run(() => this.follow());
      else await this.pollMarker();
      if (this.safetyNet.due(this.now())) await this.queue.run(() => this.check());
    } catch (error) {
      this.lost(error);
      this.noteStaleness();
    }
  }

  private followsJournal(): boolean {
    return this.options.mode !== "full" && this.now() >= this.journalMissingUntil;
  }

  // Without the journal: everything is reloaded whenever the marker moved.
  private async pollMarker(): Promise<void> {
    const marker = await this.store.changeMarker();
    if (marker === this.marker) return this.contact();
    await this.queue.run(() => this.load(this.options.mode === "full" ? "changed" : "missing"));
  }

  // Applies what the journal lists since the snapshot's marker (reading the marker with it: one round trip when
  // nothing changed), or reloads everything where it cannot tell.
  private async follow(): Promise<void> {
    const outcome = await catchUp(this.store, this.current!, this.marker!, {
      maxChangedRoles: this.options.maxChangedRoles ?? 1_000,
      groupPins: this.options.groupPins ?? false,
    });
    if (outcome.kind === "reload") return this.reloadFor(outcome.reason);
    if (outcome.marker !== this.marker) this.counters.caughtUp(outcome.roleIds.length, outcome.pins);
    this.marker = outcome.marker;
    this.contact();
    this.tellDeleted(outcome.deleted);
    if (outcome.roleIds.some((roleId) => this.current!.holdsReserved(roleId)))
      this.noteReserved(this.current!);
  }

  // The safety net: everything reloaded only when the store's checksum differs from the snapshot's.
  private async check(): Promise<void> {
    if (this.options.mode === "full" || this.now() < this.journalMissingUntil) return this.load("periodic");
    const { outcome, verdict } = await this.safetyNet.check(
      this.store,
      this.current!,
      this.marker!,
      this.now(),
    );
    this.counters.checked(outcome);
    if (verdict === "keep") return this.contact();
    return this.load(verdict);
  }

  private reloadFor(reason: FullLoadReason): Promise<void> {
    if (reason === "missing") {
      this.journalMissingUntil = this.now() + this.options.verifyMs;
      this.options.logger.warn(
        { event: "journal_missing" },
        "the store has no change journal (deploy/sql/003_change_journal.sql, tracked in Hasura): every change " +
          "reloads all mappings until it has one",
      );
    } else {
      this.options.logger.info(
        { event: "snapshot_reload", reason },
        "the journal cannot tell what changed: reloading all mappings",
      );
    }
    return this.load(reason);
  }

  private async load(reason: FullLoadReason): Promise<void> {
    // The marker is read first: a write landing during the load moves it again and triggers another catch-up.
    const marker = await this.store.changeMarker();
    const data = await this.store.loadAll();
    const groupPins = this.options.groupPins ? await this.store.loadGroupPins() : undefined;
    const previous = this.current;
    this.current = Snapshot.from(groupPins ? { ...data, groupPins } : data, this.reservedRoles);
    this.marker = marker;
    this.lastFullLoad = this.now();
    this.safetyNet.restart(this.lastFullLoad);
    this.counters.loaded(reason);
    this.contact();
    this.noteReserved(this.current);
    if (previous) this.tellDeleted([...previous.roleIds()].filter((roleId) => !this.current!.role(roleId)));
  }

  // A listener's failure is its own: the snapshot has moved on all the same.
  private tellDeleted(roleIds: readonly string[]): void {
    if (roleIds.length === 0) return;
    for (const listener of this.deletionListeners) {
      try {
        listener(roleIds);
      } catch (error) {
        this.options.logger.warn(
          {
            event: "role_deletion_listener_failed",
            err: error instanceof Error ? error.message : String(error),
          },
          "a listener of deleted roles failed",
        );
      }
    }
  }

  // Rows written outside the API (SQL, Hasura's console) can map a reserved role: once per load, say so.
  private noteReserved(snapshot: Snapshot): void {
    const ignored = snapshot.ignoredReserved;
    if (ignored.rows === 0) return;
    this.options.logger.error(
      { event: "reserved_roles_ignored", role_ids: ignored.roleIds, rows: ignored.rows },
      "the store maps reserved role ids (Hasura's admin, RESERVED_ROLE_IDS): their rows are ignored and the " +
        "webhook never answers them; delete these roles (DeleteRole)",
    );
  }

  private noteStaleness(): void {
    this.health.noteStaleness(this.current !== undefined);
  }

  private contact(): void {
    this.health.contact();
  }

  private lost(error: unknown): void {
    this.health.lost(error, this.current !== undefined);
  }
}

/** Runs async tasks one at a time, in the order they were queued. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues `task`; resolves or rejects with its outcome once every earlier task has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
