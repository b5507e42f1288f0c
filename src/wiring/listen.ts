import { createServer, type Server } from "node:http";
import net, { type AddressInfo } from "node:net";
import type { RequestListener } from "node:http";

/** An HTTP server bound to host:port; port 0 picks a free one. */
export interface Listening {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish, then closes idle connections; forces after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** Starts an HTTP server for `handler` and resolves once it listens. */
export function listen(handler: RequestListener, host: string, port: number): Promise<Listening> {
  const server = createServer(handler);
  // Bounded timeouts so slow or idle clients cannot hold connections forever.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve({
        server,
        port: (server.address() as AddressInfo).port,
        close: (graceMs) => closeServer(server, graceMs),
      });
    });
  });
}

// How long a connection accepted just before the port closed has to get its request read.
const SETTLE_MS = 100;

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    // Stop accepting, but not yet with http's close(), which also drops every connection without a request in
    // progress: one accepted a moment ago whose request bytes are not parsed yet counts as such and would be
    // reset under its client. Those are closed once they had time to be read.
    net.Server.prototype.close.call(server, () => {
      clearTimeout(force);
      resolve();
    });
    setTimeout(() => server.close(), Math.min(SETTLE_MS, graceMs)).unref();
  });
}
