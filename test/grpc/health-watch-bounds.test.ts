import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { heldHealthWatchers } from "../../src/grpc/server.js";
import { ROLE_MAPPING_SERVICE_NAME } from "../../src/grpc/service-name.js";
import type { RunningGrpcServer } from "./client.js";
import { healthWatchClient, rawConnection, rawWatch, watch, type WatchCall } from "./health-watch-client.js";
import { limitedServers } from "./limited-servers.js";

let healthy = true;
const { server, onCleanup } = limitedServers({ health: () => healthy, healthWatchIntervalMs: 10 });

afterEach(() => {
  healthy = true;
});

function client(running: RunningGrpcServer) {
  const made = healthWatchClient(running.address);
  onCleanup(() => made.close());
  return made;
}

const firstStatus = (call: WatchCall) => expect.poll(() => call.statuses[0]);

describe("grpc.health.v1.Health Watch bounds", () => {
  it("holds at most GRPC_MAX_WATCHERS calls; the next gets RESOURCE_EXHAUSTED; a cancelled one frees its place at once", async () => {
    const running = await server({ maxHealthWatchers: 3 });
    const health = client(running);
    const held = [watch(health, ""), watch(health, ROLE_MAPPING_SERVICE_NAME), watch(health, "")];
    for (const call of held) await firstStatus(call).toBe("SERVING");
    expect(heldHealthWatchers(running.server)).toBe(3);

    const refused = watch(health, "");
    await expect.poll(() => refused.ended.value).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.statuses).toEqual([]);
    expect(heldHealthWatchers(running.server)).toBe(3);

    held[0]!.cancel();
    await expect.poll(() => heldHealthWatchers(running.server)).toBe(2);
    const next = watch(health, "");
    await firstStatus(next).toBe("SERVING");
    expect(heldHealthWatchers(running.server)).toBe(3);
    for (const call of [...held.slice(1), next]) expect(call.ended.value).toBeUndefined();
  });

  it("keeps a Watch of an unknown service open on SERVICE_UNKNOWN, counted like any other, until cancelled", async () => {
    const running = await server({ maxHealthWatchers: 2 });
    const health = client(running);
    const unknown = watch(health, "other.v1.Service");
    await firstStatus(unknown).toBe("SERVICE_UNKNOWN");
    const known = watch(health, "");
    await firstStatus(known).toBe("SERVING");
    expect(heldHealthWatchers(running.server)).toBe(2);
    // It counts against the bound too.
    const refused = watch(health, "other.v1.Service");
    await expect.poll(() => refused.ended.value).toBe(status.RESOURCE_EXHAUSTED);

    // A change of the server's health reaches the known watcher; the unknown one is still open and told nothing.
    healthy = false;
    await expect.poll(() => known.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(unknown.statuses).toEqual(["SERVICE_UNKNOWN"]);
    expect(unknown.ended.value).toBeUndefined();

    unknown.cancel();
    known.cancel();
    await expect.poll(() => heldHealthWatchers(running.server)).toBe(0);
  });

  it("pushes each change of health to every watcher, from the one shared notifier", async () => {
    const running = await server({ maxHealthWatchers: 10 });
    const calls = Array.from({ length: 6 }, (_, i) =>
      watch(client(running), i % 2 ? "" : ROLE_MAPPING_SERVICE_NAME),
    );
    for (const call of calls) await firstStatus(call).toBe("SERVING");
    healthy = false;
    for (const call of calls) await expect.poll(() => call.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    healthy = true;
    for (const call of calls)
      await expect.poll(() => call.statuses).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
  });

  it("frees the watchers of a connection dropped without a cancel", async () => {
    const running = await server({ maxHealthWatchers: 10 });
    const session = rawConnection(running.address);
    await Promise.all([rawWatch(session), rawWatch(session), rawWatch(session)]);
    expect(heldHealthWatchers(running.server)).toBe(3);
    session.destroy();
    await expect.poll(() => heldHealthWatchers(running.server)).toBe(0);
  });
});
