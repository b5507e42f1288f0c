import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { bindGrpcServer, createGrpcServer, heldHealthWatchers, shutdownGrpcServer } from "../grpc/server.js";
import { grpcServerCredentials } from "../grpc/tls.js";
import type { ApiAuth } from "../identity/api-credentials.js";
import type { SidecarCore } from "./sidecar-core.js";

/** The gRPC listener: the RoleMapping API, health and reflection, bound only by `bind()`. */
export interface GrpcListener {
  /** Binds GRPC_HOST:GRPC_PORT and resolves with the bound port. */
  bind(): Promise<number>;
  /** Lets calls in flight finish within `graceMs`; nothing to do if never bound. */
  shutdown(graceMs: number): Promise<void>;
  /** Health Watch calls held open now (for metrics). */
  heldWatchers(): number;
}

/** Builds the gRPC server over the core, with the configured bounds and, when GRPC_TLS_* are set, mutual TLS. */
export function buildGrpcListener(
  config: Config,
  core: SidecarCore,
  auth: ApiAuth,
  ready: () => boolean,
  logger: Logger,
): GrpcListener {
  // The rest are the connection bounds, named as in the server's limits.
  const { host, port, maxMessageBytes, maxWatchers, tls: tlsFiles, ...bounds } = config.grpc;
  const tls = tlsFiles && {
    cert: readFileSync(tlsFiles.cert),
    key: readFileSync(tlsFiles.key),
    clientCa: readFileSync(tlsFiles.clientCa),
  };
  const server = createGrpcServer({
    service: core.service,
    authorizer: core.authorizer,
    health: ready,
    auth,
    tls,
    limits: { ...bounds, maxReceiveMessageBytes: maxMessageBytes, maxHealthWatchers: maxWatchers },
    logger,
    ...core.observability.apiCalls,
  });
  let bound = false;
  return {
    async bind() {
      const boundPort = await bindGrpcServer(server, host, port, grpcServerCredentials(tls));
      bound = true;
      return boundPort;
    },
    shutdown: (graceMs) => (bound ? shutdownGrpcServer(server, graceMs) : Promise.resolve()),
    heldWatchers: () => heldHealthWatchers(server),
  };
}
