import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { onceEnded } from "./call-end.js";
import { healthDefinition } from "./health-definition.js";
import { HealthWatchers, type ServingStatus } from "./health-watchers.js";
import { DEFAULT_GRPC_LIMITS } from "./server-limits.js";

interface HealthRequest {
  readonly service: string;
}

/** How the standard health service reports this server. */
export interface HealthServiceOptions {
  /** True while the store is reachable and the snapshot fresh; asked on every Check. */
  readonly health: () => boolean;
  /** Service names reported besides the overall "" entry. */
  readonly services: readonly string[];
  /** Most Watch calls held at once (default 100); the next ends with RESOURCE_EXHAUSTED. */
  readonly maxWatchers?: number;
  /** How often the shared Watch notifier asks `health` again (default 1 s). */
  readonly watchIntervalMs?: number;
}

/**
 * Adds `grpc.health.v1.Health`: every name in `services` (and "" for the server as a whole) is SERVING exactly
 * while `health()` says so, checked live rather than cached so a probe never sees a stale answer. Returns the
 * held Watch calls, for the gauge and for shutdown.
 */
export function addHealthService(server: Server, options: HealthServiceOptions): HealthWatchers {
  const known = new Set(["", ...options.services]);
  const current = (): "SERVING" | "NOT_SERVING" => (options.health() ? "SERVING" : "NOT_SERVING");
  const watchers = new HealthWatchers({
    current,
    max: options.maxWatchers ?? DEFAULT_GRPC_LIMITS.maxHealthWatchers,
    intervalMs: options.watchIntervalMs ?? 1_000,
  });

  server.addService(healthDefinition, {
    check(call: ServerUnaryCall<HealthRequest, unknown>, callback: sendUnaryData<unknown>) {
      if (!known.has(call.request.service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, { status: current() });
    },
    watch(call: ServerWritableStream<HealthRequest, unknown>) {
      holdWatch(watchers, call, known.has(call.request.service));
    },
    list(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      const statuses: Record<string, { status: ServingStatus }> = {};
      const now = current();
      for (const name of known) statuses[name] = { status: now };
      callback(null, { statuses });
    },
  });
  return watchers;
}

// The protocol keeps a Watch open even for an unknown service (it is reported SERVICE_UNKNOWN, not refused),
// so every open Watch is held, counted and capped alike; it is released the moment its call ends in any way.
function holdWatch(
  watchers: HealthWatchers,
  call: ServerWritableStream<HealthRequest, unknown>,
  known: boolean,
): void {
  if (call.cancelled) return;
  const release = watchers.hold(
    { send: (serving) => call.write({ status: serving }), end: () => call.end() },
    known,
  );
  if (!release) {
    call.emit("error", {
      code: status.RESOURCE_EXHAUSTED,
      details: "too many health watchers: use Check, or watch again later",
    });
    return;
  }
  onceEnded(call, release);
}
