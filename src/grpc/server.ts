import { Server, type ServerCredentials } from "@grpc/grpc-js";
import type { ApiPipelineOptions } from "../api/pipeline.js";
import type { ApiCore } from "../api/route.js";
import { requireApiAuth } from "../identity/api-credentials.js";
import { RoleMappingServiceService } from "./gen/rolemapper/v1/rolemapper.js";
import { addHealthService } from "./health-service.js";
import type { HealthWatchers } from "./health-watchers.js";
import { listenGrpc, type GrpcListener } from "./listener.js";
import { addReflectionService } from "./reflection.js";
import { roleMappingHandlers } from "./role-mapping-service.js";
import { ROLE_MAPPING_SERVICE_NAME } from "./service-name.js";
import { DEFAULT_GRPC_LIMITS, grpcServerOptions, type GrpcLimits } from "./server-limits.js";
import type { GrpcTlsOptions } from "./tls.js";

/** What the gRPC server is built from: the core, the API pipeline's settings and the listener's own. */
export interface GrpcServerOptions extends ApiCore, ApiPipelineOptions {
  /** True while the store is reachable; drives grpc.health.v1.Health. */
  readonly health: () => boolean;
  /** The same TLS settings later given to grpcServerCredentials; a client CA here means mutual TLS. */
  readonly tls?: GrpcTlsOptions | undefined;
  /** Over DEFAULT_GRPC_LIMITS. */
  readonly limits?: Partial<GrpcLimits>;
  /** How often the health Watch notifier re-checks `health` (default 1 s). */
  readonly healthWatchIntervalMs?: number;
}

/** What shutdown and the metrics need of a server built here. */
interface ServerState {
  readonly watchers: HealthWatchers;
  readonly maxConnections: number;
  listener?: GrpcListener;
}

const states = new WeakMap<Server, ServerState>();

/**
 * Builds the gRPC server — RoleMapping, health and reflection — not yet bound. Throws when neither API tokens
 * nor a client CA is configured, unless `auth.insecure` is set. Health and reflection need no credentials.
 */
export function createGrpcServer(options: GrpcServerOptions): Server {
  const clientCertificates = options.tls?.clientCa !== undefined;
  requireApiAuth(options.auth, clientCertificates, "gRPC");
  const limits: GrpcLimits = { ...DEFAULT_GRPC_LIMITS, ...options.limits };
  const server = new Server(grpcServerOptions(limits));
  server.addService(RoleMappingServiceService, roleMappingHandlers({ ...options, clientCertificates }));
  const watchers = addHealthService(server, {
    health: options.health,
    services: [ROLE_MAPPING_SERVICE_NAME],
    maxWatchers: limits.maxHealthWatchers,
    ...(options.healthWatchIntervalMs === undefined
      ? {}
      : { watchIntervalMs: options.healthWatchIntervalMs }),
  });
  states.set(server, { watchers, maxConnections: limits.maxConnections });
  addReflectionService(server, limits.maxReflectionStreams);
  return server;
}

/** The health Watch calls `server` holds now (0 for a server not built by createGrpcServer). */
export function heldHealthWatchers(server: Server): number {
  return states.get(server)?.watchers.size ?? 0;
}

/**
 * Binds `server` to host:port (port 0 picks a free one), accepting at most `maxConnections` connections at once
 * (GRPC_MAX_CONNECTIONS, default DEFAULT_GRPC_LIMITS.maxConnections), and resolves with the bound port.
 */
export async function bindGrpcServer(
  server: Server,
  host: string,
  port: number,
  credentials: ServerCredentials,
): Promise<number> {
  const state = states.get(server);
  const maxConnections = state?.maxConnections ?? DEFAULT_GRPC_LIMITS.maxConnections;
  const listener = await listenGrpc(server, host, port, credentials, maxConnections);
  if (state) state.listener = listener;
  return listener.port;
}

/**
 * Stops taking calls, lets the calls in flight finish, and cancels whatever is still running after `graceMs`.
 * Resolves once the server is down.
 */
export function shutdownGrpcServer(server: Server, graceMs: number): Promise<void> {
  const state = states.get(server);
  // Health watches never end on their own; ending them lets a quiet server stop at once.
  state?.watchers.endAll();
  const listener = state?.listener;
  const listenerClosed = listener?.close() ?? Promise.resolve();
  const callsDone = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      listener?.destroyConnections();
      resolve();
    }, graceMs);
    timer.unref();
    void Promise.all([callsDone, listenerClosed]).then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
