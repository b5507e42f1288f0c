/** A status of grpc.health.v1; SERVICE_UNKNOWN is only ever sent to a Watch. */
export type ServingStatus = "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

/** Where a held watcher's statuses go: its call, seen through the two things the notifier does with it. */
export interface WatcherSink {
  send(status: ServingStatus): void;
  /** Ends the call with OK (shutdown). */
  end(): void;
}

/** How the shared notifier is set up. */
export interface HealthWatchersOptions {
  /** The status of every known service now. */
  readonly current: () => "SERVING" | "NOT_SERVING";
  /** Most watchers held at once; the next is refused. */
  readonly max: number;
  /** How often the one timer asks `current` again while anyone watches. */
  readonly intervalMs: number;
}

interface Watcher {
  readonly sink: WatcherSink;
  /** False for an unknown service: it stays SERVICE_UNKNOWN, since services are fixed at build time. */
  readonly known: boolean;
  last: ServingStatus;
}

/**
 * The held health watchers and the one notifier they share: a single timer (running only while a known service
 * is watched) polls `current` and sends a change to every watcher, so the cost of watching is one poll per
 * interval and one small record per watcher, whatever their number — and that number is capped.
 */
export class HealthWatchers {
  private readonly held = new Set<Watcher>();
  private knownCount = 0;
  private timer: NodeJS.Timeout | undefined;
  private last: ServingStatus | undefined;

  constructor(private readonly options: HealthWatchersOptions) {}

  /** Watchers held now (the `rolemapper_grpc_health_watchers` gauge). */
  get size(): number {
    return this.held.size;
  }

  /**
   * Holds a watcher and sends it the status now (SERVICE_UNKNOWN when not `known`); returns the function that
   * releases it, or undefined — nothing sent — when `max` are already held.
   */
  hold(sink: WatcherSink, known: boolean): (() => void) | undefined {
    if (this.held.size >= this.options.max) return undefined;
    const watcher: Watcher = { sink, known, last: known ? this.options.current() : "SERVICE_UNKNOWN" };
    this.held.add(watcher);
    if (known && this.knownCount++ === 0) this.startPolling(watcher.last);
    sink.send(watcher.last);
    return () => this.release(watcher);
  }

  /** Ends every held call (shutdown) and stops the timer. */
  endAll(): void {
    const watchers = [...this.held];
    for (const watcher of watchers) this.release(watcher);
    for (const watcher of watchers) watcher.sink.end();
  }

  private release(watcher: Watcher): void {
    if (!this.held.delete(watcher) || !watcher.known) return;
    if (--this.knownCount === 0) this.stopPolling();
  }

  private startPolling(now: ServingStatus): void {
    this.last = now;
    this.timer = setInterval(() => this.poll(), this.options.intervalMs);
    // Probes watching must not keep a stopping process alive.
    this.timer.unref();
  }

  private stopPolling(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.last = undefined;
  }

  private poll(): void {
    const now = this.options.current();
    if (now === this.last) return;
    this.last = now;
    for (const watcher of this.held) {
      // A watcher held since the change already got `now` when it was held.
      if (!watcher.known || watcher.last === now) continue;
      watcher.last = now;
      watcher.sink.send(now);
    }
  }
}
