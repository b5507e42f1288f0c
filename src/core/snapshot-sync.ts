import { UnavailableError } from "./errors.js";
import type { CoreLogger } from "./identity.js";
import { reservedRoleIds } from "./reserved-roles.js";
import { SerialQueue } from "./serial.js";
import { Snapshot } from "./snapshot.js";
import type { RoleMappingStore } from "../store/port.js";

/** How the snapshot follows the store. */
export interface SnapshotSyncOptions {
  /** Full reload period, catching edits made outside the API. */
  readonly refreshMs: number;
  /** How often the store's change marker is checked. */
  readonly pollMs: number;
  /** How long decisions may go on from the last snapshot while the store is unreachable. */
  readonly maxStalenessMs: number;
  readonly logger: CoreLogger;
  /** Writes allowed to wait for the store at once; more fail with UnavailableError (default 1000). */
  readonly maxQueuedWrites?: number;
  /** Load the group pins with the mappings (when group names are pinned; the table may not exist otherwise). */
  readonly groupPins?: boolean;
  /** Role ids left out of every snapshot (default: Hasura's `admin` only). */
  readonly reservedRoles?: ReadonlySet<string>;
  readonly now?: () => number;
}

/** What SnapshotSync.stats() reports. */
export interface SnapshotStats {
  readonly loaded: boolean;
  /** Milliseconds since the last full load. */
  readonly ageMs: number;
  /** Milliseconds since the store last answered. */
  readonly staleForMs: number;
  readonly roles: number;
  readonly grants: number;
  /** Role and grant rows of reserved role ids the last load left out. */
  readonly reservedRowsIgnored: number;
}

/**
 * Keeps this replica's snapshot in step with the store: loaded at start, reloaded when the change marker moves
 * and every refresh period. Writes through the core and reloads share one queue, so a reload can never put back
 * a state older than a write this replica already applied.
 */
export class SnapshotSync {
  private current: Snapshot | undefined;
  private marker: string | undefined;
  private lastContact = 0;
  private lastFullLoad = 0;
  private healthy = true;
  private failingClosed = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private readonly queue = new SerialQueue();
  private readonly maxQueuedWrites: number;
  private queuedWrites = 0;
  private readonly now: () => number;
  private readonly reservedRoles: ReadonlySet<string>;

  constructor(
    private readonly store: RoleMappingStore,
    private readonly options: SnapshotSyncOptions,
  ) {
    this.now = options.now ?? Date.now;
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
  }

  /** The snapshot to decide with; UnavailableError when there is none or the store has been away too long. */
  fresh(): Snapshot {
    if (!this.current) throw new UnavailableError("role mappings not loaded yet");
    if (this.staleForMs() > this.options.maxStalenessMs) {
      this.noteStaleness();
      throw new UnavailableError(`role mappings are stale: store unreachable for ${this.staleForMs()} ms`);
    }
    return this.current;
  }

  /** True when a snapshot is loaded and within the staleness bound. */
  ready(): boolean {
    return this.current !== undefined && this.staleForMs() <= this.options.maxStalenessMs;
  }

  /** Milliseconds since the store last answered. */
  staleForMs(): number {
    return this.now() - this.lastContact;
  }

  /** The snapshot's age and size, for metrics; `loaded` is false (and the rest zero) before the first load. */
  stats(): SnapshotStats {
    if (!this.current) {
      return { loaded: false, ageMs: 0, staleForMs: 0, roles: 0, grants: 0, reservedRowsIgnored: 0 };
    }
    return {
      loaded: true,
      ageMs: this.now() - this.lastFullLoad,
      staleForMs: this.staleForMs(),
      roles: this.current.roleCount,
      grants: this.current.grants,
      reservedRowsIgnored: this.current.ignoredReserved.rows,
    };
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

  /** Checks the change marker once; reloads when it moved or the refresh period passed. */
  async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const marker = await this.store.changeMarker();
      const due = this.now() - this.lastFullLoad >= this.options.refreshMs;
      if (this.current === undefined || marker !== this.marker || due)
        await this.queue.run(() => this.load());
      else this.contact();
    } catch (error) {
      this.lost(error);
      this.noteStaleness();
    } finally {
      this.polling = false;
    }
  }

  /** Reloads everything now. */
  reload(): Promise<void> {
    return this.queue.run(() => this.load());
  }

  private async load(): Promise<void> {
    // The marker is read first: a write landing during the load moves it again and triggers another load.
    const marker = await this.store.changeMarker();
    const data = await this.store.loadAll();
    const groupPins = this.options.groupPins ? await this.store.loadGroupPins() : undefined;
    this.current = Snapshot.from(groupPins ? { ...data, groupPins } : data, this.reservedRoles);
    this.marker = marker;
    this.lastFullLoad = this.now();
    this.contact();
    this.noteReserved(this.current);
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

  // Logged once when decisions start failing closed, not once per refused request.
  private noteStaleness(): void {
    if (this.failingClosed || !this.current || this.staleForMs() <= this.options.maxStalenessMs) return;
    this.failingClosed = true;
    this.options.logger.error(
      { event: "store_stale", stale_ms: this.staleForMs() },
      "role mapping store unreachable beyond SNAPSHOT_MAX_STALENESS_S: decisions fail closed",
    );
  }

  private contact(): void {
    this.lastContact = this.now();
    this.failingClosed = false;
    if (!this.healthy) {
      this.healthy = true;
      this.options.logger.info({ event: "store_recovered" }, "role mapping store reachable again");
    }
  }

  private lost(error: unknown): void {
    if (!this.healthy) return;
    this.healthy = false;
    const message = error instanceof Error ? error.message : String(error);
    this.options.logger.warn(
      { event: "store_unreachable", err: message },
      this.current
        ? "role mapping store unreachable: deciding from the last snapshot"
        : "role mapping store unreachable: not ready until the first load succeeds",
    );
  }
}
