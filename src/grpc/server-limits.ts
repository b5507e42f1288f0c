import type { ServerOptions } from "@grpc/grpc-js";
import { DEFAULTS } from "../config/defaults.js";

/**
 * Transport bounds of the gRPC server. List lengths are bounded by the MappingService's own limits; these bound
 * what any caller, authenticated or not, can hold open: streams, connections and their lifetime.
 */
export interface GrpcLimits {
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes: number;
  /** Largest response message sent. */
  readonly maxSendMessageBytes: number;
  /** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly maxConcurrentStreams: number;
  /** The server pings each connection this long after its last ping was answered. */
  readonly keepaliveTimeMs: number;
  /** A ping unanswered this long closes the connection (a peer gone without a FIN). */
  readonly keepaliveTimeoutMs: number;
  /** A connection with no call open this long is closed (GOAWAY). */
  readonly maxConnectionIdleMs: number;
  /** Every connection is asked to go (GOAWAY) after this long, ±10 %, so none is held for ever. */
  readonly maxConnectionAgeMs: number;
  /** Then its calls have this long to finish before it is closed. */
  readonly maxConnectionAgeGraceMs: number;
  /** Health Watch calls held at once, over all connections. */
  readonly maxHealthWatchers: number;
  /** Server reflection streams open at once, over all connections. */
  readonly maxReflectionStreams: number;
  /** Connections open at once; a new one past it is closed as soon as accepted (not a grpc-js option). */
  readonly maxConnections: number;
}

/** The defaults: those that are GRPC_* variables from the configuration's table (src/config/defaults.ts). */
export const DEFAULT_GRPC_LIMITS: GrpcLimits = {
  maxReceiveMessageBytes: 16 * 1024 * 1024,
  maxSendMessageBytes: 64 * 1024 * 1024,
  maxConcurrentStreams: DEFAULTS.grpc.maxConcurrentStreams,
  keepaliveTimeMs: DEFAULTS.grpc.keepaliveTimeMs,
  keepaliveTimeoutMs: DEFAULTS.grpc.keepaliveTimeoutMs,
  maxConnectionIdleMs: DEFAULTS.grpc.maxConnectionIdleMs,
  maxConnectionAgeMs: DEFAULTS.grpc.maxConnectionAgeMs,
  maxConnectionAgeGraceMs: DEFAULTS.grpc.maxConnectionAgeGraceMs,
  maxHealthWatchers: DEFAULTS.grpc.maxWatchers,
  // Not a variable: grpcurl and its kind open one stream per command, for a moment.
  maxReflectionStreams: 16,
  maxConnections: DEFAULTS.grpc.maxConnections,
};

/**
 * The grpc-js (1.14) server options carrying `limits`; every one of these is read by grpc-js's Server.
 * `grpc-node.max_session_memory` is left at grpc-js's choice (unenforced): grpc-js turns it off on purpose, as
 * sessions degrade badly once Node's limit is reached; the bounds above hold memory down instead.
 */
export function grpcServerOptions(limits: GrpcLimits): ServerOptions {
  return {
    "grpc.max_receive_message_length": limits.maxReceiveMessageBytes,
    "grpc.max_send_message_length": limits.maxSendMessageBytes,
    "grpc.max_concurrent_streams": limits.maxConcurrentStreams,
    "grpc.keepalive_time_ms": limits.keepaliveTimeMs,
    "grpc.keepalive_timeout_ms": limits.keepaliveTimeoutMs,
    "grpc.max_connection_idle_ms": limits.maxConnectionIdleMs,
    "grpc.max_connection_age_ms": limits.maxConnectionAgeMs,
    "grpc.max_connection_age_grace_ms": limits.maxConnectionAgeGraceMs,
    // Channelz (no service here exposes it) would keep a trace and counters per connection.
    "grpc.enable_channelz": 0,
  };
}
