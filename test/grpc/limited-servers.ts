import { afterAll, afterEach, beforeAll } from "vitest";
import type { GrpcLimits } from "../../src/grpc/server-limits.js";
import { startGrpcServer, type RunningGrpcServer } from "./client.js";
import { openApiFixture, type ApiFixture } from "./harness.js";

type Cleanup = () => Promise<void> | void;

/**
 * One API fixture for the test file, and plaintext servers on it started with the limits a test gives;
 * whatever a test started (servers and anything passed to onCleanup) is closed after it, newest first.
 */
export function limitedServers(options: { health: () => boolean; healthWatchIntervalMs?: number }) {
  let fixture: ApiFixture;
  const cleanups: Cleanup[] = [];

  beforeAll(async () => {
    fixture = await openApiFixture();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => fixture?.close());

  return {
    onCleanup(cleanup: Cleanup): void {
      cleanups.push(cleanup);
    },
    async server(limits: Partial<GrpcLimits>): Promise<RunningGrpcServer> {
      const running = await startGrpcServer({
        service: fixture.service,
        authorizer: fixture.authorizer,
        health: options.health,
        auth: { insecure: true },
        logger: fixture.log,
        limits,
        healthWatchIntervalMs: options.healthWatchIntervalMs,
      });
      cleanups.push(() => running.stop());
      return running;
    },
  };
}
