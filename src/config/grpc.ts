import type { GrpcLimits } from "../grpc/server-limits.js";
import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

const MIB = 1024 * 1024;

/** Certificate, key and client CA files of the gRPC listener's mutual TLS (GRPC_TLS_*). */
export interface GrpcTlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly clientCa: string;
}

/** The gRPC server's bounds that are GRPC_* variables under the same name (documented in GrpcLimits). */
type GrpcConnectionBounds = Pick<
  GrpcLimits,
  | "maxConnections"
  | "maxConcurrentStreams"
  | "keepaliveTimeMs"
  | "keepaliveTimeoutMs"
  | "maxConnectionIdleMs"
  | "maxConnectionAgeMs"
  | "maxConnectionAgeGraceMs"
>;

/** The gRPC listener of the RoleMapping API, and what any caller may hold open on it. */
export interface GrpcConfig extends GrpcConnectionBounds {
  readonly host: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  /** Health Watch calls held at once (GRPC_MAX_WATCHERS). */
  readonly maxWatchers: number;
  readonly tls: GrpcTlsFiles | undefined;
}

/** Reads GRPC_TLS_*: all three files or none. */
export function readGrpcTls(env: EnvReader): GrpcTlsFiles | undefined {
  const cert = env.raw("GRPC_TLS_CERT");
  const key = env.raw("GRPC_TLS_KEY");
  const clientCa = env.raw("GRPC_TLS_CLIENT_CA");
  const parts = [cert, key, clientCa].filter((part) => part !== undefined).length;
  if (parts !== 0 && parts !== 3) {
    env.fail("GRPC_TLS_CERT", "GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA go together", undefined, 0);
  }
  return cert && key && clientCa ? { cert, key, clientCa } : undefined;
}

/** Reads GRPC_HOST, GRPC_PORT, GRPC_MAX_MESSAGE_BYTES and the connection bounds. */
export function readGrpc(env: EnvReader, host: string, tls: GrpcTlsFiles | undefined): GrpcConfig {
  const d = DEFAULTS.grpc;
  return {
    host: env.string("GRPC_HOST", host),
    port: env.port("GRPC_PORT", d.port),
    maxMessageBytes: env.int("GRPC_MAX_MESSAGE_BYTES", d.maxMessageBytes, 1024, 512 * MIB),
    ...readGrpcBounds(env),
    tls,
  };
}

// What an unauthenticated caller could otherwise hold open on the gRPC port: streams, connections, time.
function readGrpcBounds(env: EnvReader): GrpcConnectionBounds & Pick<GrpcConfig, "maxWatchers"> {
  const d = DEFAULTS.grpc;
  const seconds = (name: string, fallbackMs: number, min: number, max: number): number =>
    Math.round(env.secondsAsMs(name, fallbackMs, min, max));
  return {
    maxWatchers: env.int("GRPC_MAX_WATCHERS", d.maxWatchers, 0, 100_000),
    maxConnections: env.int("GRPC_MAX_CONNECTIONS", d.maxConnections, 1, 1_000_000),
    maxConcurrentStreams: env.int("GRPC_MAX_CONCURRENT_STREAMS", d.maxConcurrentStreams, 1, 100_000),
    keepaliveTimeMs: seconds("GRPC_KEEPALIVE_TIME_S", d.keepaliveTimeMs, 1, 86_400),
    keepaliveTimeoutMs: seconds("GRPC_KEEPALIVE_TIMEOUT_S", d.keepaliveTimeoutMs, 1, 3_600),
    maxConnectionIdleMs: seconds("GRPC_MAX_CONNECTION_IDLE_S", d.maxConnectionIdleMs, 1, 86_400),
    maxConnectionAgeMs: seconds("GRPC_MAX_CONNECTION_AGE_S", d.maxConnectionAgeMs, 1, 604_800),
    maxConnectionAgeGraceMs: seconds("GRPC_MAX_CONNECTION_AGE_GRACE_S", d.maxConnectionAgeGraceMs, 0, 3_600),
  };
}
