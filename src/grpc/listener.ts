import { createServer, type AddressInfo, type Socket } from "node:net";
import type { Server, ServerCredentials } from "@grpc/grpc-js";

/** The TCP listener of a gRPC server, accepting at most a fixed number of connections at once. */
export interface GrpcListener {
  readonly port: number;
  /** Stops accepting; resolves once every accepted connection has closed. */
  close(): Promise<void>;
  /** Destroys the connections still open (the end of a shutdown's grace period). */
  destroyConnections(): void;
}

/**
 * Listens on host:port (port 0 picks a free one) and hands each connection to `server` through grpc-js's
 * connection injector. grpc-js's own bindAsync has no bound on connections, and each costs memory (an HTTP/2
 * session and socket buffers, 10–35 KB idle as measured) whether or not it ever authenticates; past
 * `maxConnections` a new connection is closed as soon as it is accepted.
 */
export function listenGrpc(
  server: Server,
  host: string,
  port: number,
  credentials: ServerCredentials,
  maxConnections: number,
): Promise<GrpcListener> {
  const injector = server.createConnectionInjector(credentials);
  const sockets = new Set<Socket>();
  const listener = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    injector.injectConnection(socket);
  });
  listener.maxConnections = maxConnections;
  // An IPv6 literal may be written as in a gRPC address, in brackets.
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  return new Promise((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(port, bare, () => {
      listener.off("error", reject);
      resolve({
        port: (listener.address() as AddressInfo).port,
        close: () => new Promise((closed) => listener.close(() => closed())),
        destroyConnections() {
          for (const socket of sockets) socket.destroy();
        },
      });
    });
  });
}
