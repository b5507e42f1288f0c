import { connect, type ClientHttp2Session } from "node:http2";
import { credentials, makeClientConstructor, type Client, type ServiceError } from "@grpc/grpc-js";
import { healthDefinition } from "../../src/grpc/health-definition.js";

/** One Watch call as a client sees it: the statuses received, and how it ended (if it did). */
export interface WatchCall {
  readonly statuses: string[];
  /** Set once the call ended: "end" (OK) or the error's gRPC code. */
  readonly ended: { value: "end" | number | undefined };
  cancel(): void;
}

interface WatchStream {
  cancel(): void;
  on(event: "data", listener: (response: { status: string }) => void): void;
  on(event: "error", listener: (error: ServiceError) => void): void;
  on(event: "end", listener: () => void): void;
}

/** A client of grpc.health.v1.Health, on a connection of its own. */
export function healthWatchClient(address: string): Client & { watch(request: object): WatchStream } {
  const Constructor = makeClientConstructor(healthDefinition, "grpc.health.v1.Health");
  return new Constructor(address, credentials.createInsecure(), {
    "grpc.use_local_subchannel_pool": 1,
  }) as unknown as Client & { watch(request: object): WatchStream };
}

/** Starts a Watch of `service` and records what it receives. */
export function watch(client: ReturnType<typeof healthWatchClient>, service: string): WatchCall {
  const stream = client.watch({ service });
  const call: WatchCall = { statuses: [], ended: { value: undefined }, cancel: () => stream.cancel() };
  stream.on("data", (response) => call.statuses.push(response.status));
  stream.on("error", (error) => (call.ended.value ??= error.code));
  stream.on("end", () => (call.ended.value ??= "end"));
  return call;
}

/**
 * A bare HTTP/2 connection to the gRPC port, for what a gRPC client library hides: the server's SETTINGS, a
 * GOAWAY, and a connection dropped under its calls without a cancel.
 */
export function rawConnection(address: string): ClientHttp2Session {
  const session = connect(`http://${address}`);
  session.on("error", () => undefined);
  return session;
}

/** Sends one Watch of the whole server ("") over a bare connection; resolves once its first message arrives. */
export function rawWatch(session: ClientHttp2Session): Promise<void> {
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.health.v1.Health/Watch",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  // One length-prefixed message: not compressed, zero bytes long (an empty HealthCheckRequest, service "").
  stream.end(Buffer.alloc(5));
  return new Promise((resolve, reject) => {
    stream.once("data", () => resolve());
    stream.once("close", () => reject(new Error("the Watch closed before its first message")));
  });
}

/**
 * Opens a server reflection stream over a bare connection and asks it to list the services; resolves with the
 * gRPC status it was refused with, "open" once the answer arrives on a stream left open, or "closed".
 */
export function rawReflection(session: ClientHttp2Session): Promise<number | "open" | "closed"> {
  const stream = session.request({
    ":method": "POST",
    ":path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "content-type": "application/grpc",
    te: "trailers",
  });
  stream.on("error", () => undefined);
  // ServerReflectionRequest { list_services: "*" } (field 7), length-prefixed; the request side stays open.
  stream.write(Buffer.from([0, 0, 0, 0, 3, 0x3a, 0x01, 0x2a]));
  return new Promise((resolve) => {
    stream.once("response", (headers) => {
      const code = headers["grpc-status"];
      if (code !== undefined) resolve(Number(code));
    });
    stream.once("data", () => resolve("open"));
    stream.once("close", () => resolve("closed"));
  });
}
