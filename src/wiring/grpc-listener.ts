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
  const { grpc } = config;
  const tls = grpc.tls && {
    cert: readFileSync(grpc.tls.cert),
    key: readFileSync(grpc.tls.key),
    clientCa: readFileSync(grpc.tls.clientCa),
  };
  const server = createGrpcServer({
    service: core.service,
    authorizer: core.authorizer,
    health: ready,
    auth,
    tls,
    limits: {
      maxReceiveMessageBytes: grpc.maxMessageBytes,
      maxConnections: grpc.maxConnections,
      maxConcurrentStreams: grpc.maxConcurrentStreams,
      keepaliveTimeMs: grpc.keepaliveTimeMs,
      keepaliveTimeoutMs: grpc.keepaliveTimeoutMs,
      maxConnectionIdleMs: grpc.maxConnectionIdleMs,
      maxConnectionAgeMs: grpc.maxConnectionAgeMs,
      maxConnectionAgeGraceMs: grpc.maxConnectionAgeGraceMs,
      maxHealthWatchers: grpc.maxWatchers,
    },
    logger,
    ...core.observability.apiCalls,
  });
  let bound = false;
  return {
    async bind() {
      const port = await bindGrpcServer(server, grpc.host, grpc.port, grpcServerCredentials(tls));
      bound = true;
      return port;
    },
    shutdown: (graceMs) => (bound ? shutdownGrpcServer(server, graceMs) : Promise.resolve()),
    heldWatchers: () => heldHealthWatchers(server),
  };
}
