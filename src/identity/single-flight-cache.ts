import { LRUCache } from "lru-cache";

type Entry<V> = { ok: true; value: V; expiresAt: number } | { ok: false; error: unknown; expiresAt: number };

/** What a load produced and until when (ms since the epoch) it may be reused. */
export interface Loaded<V> {
  readonly value: V;
  readonly expiresAt: number;
}

/** Lookups since start: a hit is answered without starting a load (cached, or joining one in flight). */
export interface CacheStats {
  readonly hits: number;
  readonly misses: number;
  /** Entries held now. */
  readonly size: number;
}

/** Bounds and clock of a SingleFlightCache. */
export interface SingleFlightCacheOptions {
  /** Most entries kept; the least recently used go first. */
  readonly maxEntries: number;
  /** How long a failure is remembered (ms; 0 = never), so an outage does not multiply calls. */
  readonly errorTtlMs?: number;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

/**
 * A bounded cache whose concurrent misses for one key share a single load; each entry carries its own expiry
 * and is never served past it.
 */
export class SingleFlightCache<V> {
  private readonly entries: LRUCache<string, Entry<V>>;
  private readonly inFlight = new Map<string, Promise<V>>();
  private readonly errorTtlMs: number;
  private readonly now: () => number;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: SingleFlightCacheOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1) {
      throw new RangeError("maxEntries must be a positive integer");
    }
    this.entries = new LRUCache({ max: options.maxEntries });
    this.errorTtlMs = options.errorTtlMs ?? 0;
    this.now = options.now ?? Date.now;
  }

  /** The cached value for `key`, or the result of `load` (shared with concurrent callers). */
  get(key: string, load: () => Promise<Loaded<V>>): Promise<V> {
    const entry = this.entries.get(key);
    if (entry) {
      if (this.now() < entry.expiresAt) {
        this.hitCount++;
        return entry.ok ? Promise.resolve(entry.value) : Promise.reject(entry.error);
      }
      this.entries.delete(key);
    }
    const pending = this.inFlight.get(key);
    if (pending) {
      this.hitCount++;
      return pending;
    }
    this.missCount++;
    const started = this.run(key, load).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /** Number of cached entries (fresh or not yet evicted). */
  get size(): number {
    return this.entries.size;
  }

  /** Hits and misses since start, for metrics. */
  stats(): CacheStats {
    return { hits: this.hitCount, misses: this.missCount, size: this.entries.size };
  }

  private async run(key: string, load: () => Promise<Loaded<V>>): Promise<V> {
    try {
      const { value, expiresAt } = await load();
      if (expiresAt > this.now()) this.entries.set(key, { ok: true, value, expiresAt });
      return value;
    } catch (error) {
      if (this.errorTtlMs > 0) {
        this.entries.set(key, { ok: false, error, expiresAt: this.now() + this.errorTtlMs });
      }
      throw error;
    }
  }
}
