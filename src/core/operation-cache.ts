import { LRUCache } from "lru-cache";
import {
  analyzeOperation,
  DEFAULT_OPERATION_LIMITS,
  OperationError,
  type Operation,
  type OperationLimits,
} from "./operation.js";

/** Bounds of the parsed-operation cache. */
export interface OperationCacheOptions {
  /** Total characters of query text kept. */
  readonly maxChars: number;
  readonly limits?: OperationLimits;
}

/**
 * Parsed operations by query text and operation name: clients send the same few documents over and over.
 * Parse failures are cached too, so a repeated bad document costs one parse.
 */
export class OperationCache {
  private readonly cache: LRUCache<string, Operation | OperationError>;
  private readonly limits: OperationLimits;
  private hitCount = 0;
  private missCount = 0;

  constructor(options: OperationCacheOptions) {
    this.limits = options.limits ?? DEFAULT_OPERATION_LIMITS;
    this.cache = new LRUCache({
      maxSize: options.maxChars,
      sizeCalculation: (_value, key) => Math.max(1, key.length),
    });
  }

  /** The analysed operation; throws OperationError when the document is not executable. */
  analyze(query: string, operationName: string | undefined): Operation {
    // Length-prefixed, so no (name, query) pair spells the key of another: with a separator character, a name
    // holding that character could reuse the analysis of a different document.
    const key =
      operationName === undefined ? `-:${query}` : `${operationName.length}:${operationName}:${query}`;
    let entry = this.cache.get(key);
    if (entry === undefined) {
      this.missCount++;
      entry = analyzeOrError(query, operationName, this.limits);
      // Oversized documents are refused before parsing and not worth a cache slot.
      if (query.length <= this.limits.maxQueryLength) this.cache.set(key, entry);
    } else {
      this.hitCount++;
    }
    if (entry instanceof OperationError) throw entry;
    return entry;
  }

  /** Hits and misses since start, for metrics. */
  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.hitCount, misses: this.missCount, size: this.cache.size };
  }
}

function analyzeOrError(
  query: string,
  operationName: string | undefined,
  limits: OperationLimits,
): Operation | OperationError {
  try {
    return analyzeOperation(query, operationName, limits);
  } catch (error) {
    if (error instanceof OperationError) return error;
    throw error;
  }
}
