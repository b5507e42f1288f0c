import { once } from "node:events";
import type { ClientHttp2Session } from "node:http2";
import { connect as connectTcp } from "node:net";
import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { heldHealthWatchers } from "../../src/grpc/server.js";
import { DEFAULT_GRPC_LIMITS, grpcServerOptions } from "../../src/grpc/server-limits.js";
import type { RunningGrpcServer } from "./client.js";
import { rawConnection, rawReflection, rawWatch } from "./health-watch-client.js";
import { limitedServers } from "./limited-servers.js";

const { server, onCleanup } = limitedServers({ health: () => true });

function connection(running: RunningGrpcServer): ClientHttp2Session {
  const session = rawConnection(running.address);
  onCleanup(() => void session.destroy());
  return session;
}

/** Resolves true once the server's SETTINGS arrive, false if the connection closes first. */
function admitted(session: ClientHttp2Session): Promise<boolean> {
  return new Promise((resolve) => {
    session.once("remoteSettings", () => resolve(true));
    session.once("close", () => resolve(false));
  });
}

describe("gRPC server limits", () => {
  it("hands every limit to grpc-js under the option name grpc-js 1.14 reads", () => {
    expect(grpcServerOptions(DEFAULT_GRPC_LIMITS)).toEqual({
      "grpc.max_receive_message_length": 16 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
      "grpc.max_concurrent_streams": 100,
      "grpc.keepalive_time_ms": 60_000,
      "grpc.keepalive_timeout_ms": 20_000,
      "grpc.max_connection_idle_ms": 300_000,
      "grpc.max_connection_age_ms": 1_800_000,
      "grpc.max_connection_age_grace_ms": 30_000,
      "grpc.enable_channelz": 0,
    });
  });

  it("advertises the streams a connection may open (SETTINGS_MAX_CONCURRENT_STREAMS)", async () => {
    const running = await server({ maxConcurrentStreams: 7 });
    const session = connection(running);
    await once(session, "remoteSettings");
    expect(session.remoteSettings.maxConcurrentStreams).toBe(7);
  });

  it("closes a connection past GRPC_MAX_CONNECTIONS as soon as it is accepted, and admits one again once another left", async () => {
    const running = await server({ maxConnections: 3 });
    const first = [connection(running), connection(running), connection(running)];
    expect(await Promise.all(first.map(admitted))).toEqual([true, true, true]);
    expect(await admitted(connection(running))).toBe(false);

    first[0]!.destroy();
    await expect.poll(async () => admitted(connection(running))).toBe(true);
  });

  it("closes a connection idle past GRPC_MAX_CONNECTION_IDLE_S with a GOAWAY", async () => {
    const running = await server({ maxConnectionIdleMs: 200 });
    const session = connection(running);
    await once(session, "goaway");
    await once(session, "close");
  });

  it("ends a connection past its maximum age: GOAWAY, then after the grace period its Watch calls are cut and freed", async () => {
    const running = await server({ maxConnectionAgeMs: 400, maxConnectionAgeGraceMs: 200 });
    const session = connection(running);
    await rawWatch(session);
    expect(heldHealthWatchers(running.server)).toBe(1);
    await once(session, "goaway");
    await once(session, "close");
    await expect.poll(() => heldHealthWatchers(running.server)).toBe(0);
  });

  it("holds at most 16 reflection streams (none needs a credential); the next gets RESOURCE_EXHAUSTED until one ends", async () => {
    const running = await server({ maxReflectionStreams: 3 });
    const first = connection(running);
    expect(await Promise.all([rawReflection(first), rawReflection(first), rawReflection(first)])).toEqual([
      "open",
      "open",
      "open",
    ]);
    const other = connection(running);
    expect(await rawReflection(other)).toBe(status.RESOURCE_EXHAUSTED);
    first.destroy();
    await expect.poll(() => rawReflection(other)).toBe("open");
    expect(DEFAULT_GRPC_LIMITS.maxReflectionStreams).toBe(16);
  });

  it("closes a connection whose peer stops answering keepalive pings", async () => {
    const running = await server({ keepaliveTimeMs: 100, keepaliveTimeoutMs: 100 });
    const [host, port] = running.address.split(":") as [string, string];
    // A peer that opens HTTP/2 (preface and an empty SETTINGS frame) and then never reads or answers anything.
    const socket = connectTcp(Number(port), host);
    onCleanup(() => void socket.destroy());
    socket.on("error", () => undefined);
    await once(socket, "connect");
    socket.write(
      Buffer.concat([
        Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
        Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
      ]),
    );
    socket.resume();
    await once(socket, "close");
  });
});
