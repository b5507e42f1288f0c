import { onTestFinished } from "vitest";
import { MappingService, type MappingServiceOptions } from "../../src/core/mapping-service.js";
import { SnapshotSync } from "../../src/core/snapshot-sync.js";
import type { SnapshotSyncOptions } from "../../src/core/snapshot-sync-options.js";
import { FakeStore } from "../support/fake-store.js";
import { RecordingLogger } from "../support/recording-logger.js";

/**
 * A started SnapshotSync over `store` that never polls or verifies on its own, so a test sees only its own
 * writes; it stops when the test ends. Call it inside a test.
 */
export async function quietSync(
  store: FakeStore,
  options: Partial<SnapshotSyncOptions> = {},
): Promise<SnapshotSync> {
  const sync = new SnapshotSync(store, {
    verifyMs: 3_600_000,
    pollMs: 3_600_000,
    maxStalenessMs: 60_000,
    logger: new RecordingLogger(),
    ...options,
  });
  onTestFinished(() => sync.stop());
  await sync.start();
  return sync;
}

/** A MappingService with `options` over a fresh FakeStore and a quiet sync. Call it inside a test. */
export async function serviceOverFakeStore(options: MappingServiceOptions = {}) {
  const store = new FakeStore();
  const sync = await quietSync(store);
  return { store, sync, service: new MappingService(store, sync, options) };
}
