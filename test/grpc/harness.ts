import { Authorizer } from "../../src/core/authorizer.js";
import { UnauthenticatedError } from "../../src/core/errors.js";
import type { VerifiedToken } from "../../src/core/identity.js";
import { MappingService, type MappingLimits } from "../../src/core/mapping-service.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { SnapshotSync } from "../../src/core/snapshot-sync.js";
import { openPristinePglite } from "../support/pglite-template.js";
import type { RoleMappingStore } from "../../src/core/store-port.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import { RecordingLogger } from "../support/recording-logger.js";

/**
 * Wraps a store so a test can take it down: while a failure is set, every call rejects with it, as a store
 * that lost its database (UnavailableError), timed out (DeadlineExceededError) or broke (any other error) does.
 */
export function switchable(store: RoleMappingStore): {
  store: RoleMappingStore;
  fail(error: Error | undefined): void;
  hold(): Hold;
} {
  let failure: Error | undefined;
  let gate: Promise<void> | undefined;
  let arrived: (() => void) | undefined;
  const wrapped = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function" || property === "close") return value;
      return async (...args: unknown[]) => {
        if (gate) {
          arrived?.();
          await gate;
        }
        if (failure) throw failure;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    store: wrapped,
    fail: (error) => (failure = error),
    hold() {
      let open = (): void => undefined;
      gate = new Promise((resolve) => (open = resolve));
      const reached = new Promise<void>((resolve) => (arrived = resolve));
      return {
        reached,
        release() {
          gate = undefined;
          arrived = undefined;
          open();
        },
      };
    },
  };
}

/** A pause of every store call: `reached` resolves when a call is waiting, `release` lets them all go on. */
export interface Hold {
  readonly reached: Promise<void>;
  release(): void;
}

/** Verified claims per consumer token, standing in for JWT verification. */
export const CONSUMER_TOKENS: Readonly<Record<string, Record<string, unknown>>> = {
  "alice-token": { unique_name: "alice@corp.com", groups: ["analysts"] },
  "bob-token": { unique_name: "bob@corp.com", groups: [] },
};

/** Everything the API transports are built on: the real SQL store on a fresh PGlite, synced, and a clock. */
export interface ApiFixture {
  readonly service: MappingService;
  readonly authorizer: Authorizer;
  readonly sync: SnapshotSync;
  readonly log: RecordingLogger;
  /** The store itself, for rows written outside the API (as with SQL or Hasura's console). */
  readonly store: RoleMappingStore;
  /** Makes every store call fail with `error` until called with undefined. */
  fail(error: Error | undefined): void;
  /** Makes every store call wait until released. */
  hold(): Hold;
  /** Moves the SnapshotSync clock forward. */
  advance(ms: number): void;
  close(): Promise<void>;
}

/** The staleness bound of the fixture's SnapshotSync. */
export const MAX_STALENESS_MS = 60_000;

/** Opens the SQL store on a fresh PGlite and builds the core on it. */
export async function openApiFixture(limits?: MappingLimits): Promise<ApiFixture> {
  const client = await openPristinePglite();
  const sql = await createSqlStore({ client, migrate: true });
  const { store, fail, hold } = switchable(sql);
  const log = new RecordingLogger();
  let clock = Date.now();
  const sync = new SnapshotSync(store, {
    verifyMs: 3_600_000,
    pollMs: 3_600_000,
    maxStalenessMs: MAX_STALENESS_MS,
    logger: log,
    now: () => clock,
  });
  await sync.start();
  const service = new MappingService(store, sync, limits ? { limits } : {});
  const authorizer = new Authorizer({
    verifier: {
      async verify(token: string): Promise<VerifiedToken> {
        const claims = CONSUMER_TOKENS[token];
        if (!claims) throw new UnauthenticatedError("signature verification failed", "token_invalid");
        return { claims, expiresAt: Math.floor(Date.now() / 1000) + 3600 };
      },
    },
    groups: {
      async groupsOf(claims) {
        return Array.isArray(claims.groups) ? claims.groups.map(String) : [];
      },
    },
    snapshot: () => sync.fresh(),
    operations: new OperationCache({ maxChars: 1_000_000 }),
    userName: (claims) => String(claims.unique_name),
    tokenHeaders: ["authorization"],
    allowIntrospection: false,
    maxBatch: 10,
  });
  return {
    service,
    authorizer,
    sync,
    log,
    store,
    fail,
    hold,
    advance: (ms) => {
      clock += ms;
    },
    async close() {
      sync.stop();
      await sql.close();
    },
  };
}
