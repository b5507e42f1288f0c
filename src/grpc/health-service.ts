import type { sendUnaryData, Server, ServerUnaryCall, ServerWritableStream } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { healthDefinition } from "./health-definition.js";

type ServingStatus = "SERVING" | "NOT_SERVING" | "SERVICE_UNKNOWN";

interface HealthRequest {
  readonly service: string;
}

/** How the standard health service reports this server. */
export interface HealthServiceOptions {
  /** True while the store is reachable and the snapshot fresh; asked on every Check. */
  readonly health: () => boolean;
  /** Service names reported besides the overall "" entry. */
  readonly services: readonly string[];
  /** How often an open Watch asks `health` again. */
  readonly watchIntervalMs?: number;
}

/** Ends the open Watch streams, so a graceful shutdown does not wait on them. */
export type StopHealthWatches = () => void;

/**
 * Adds `grpc.health.v1.Health`: every name in `services` (and "" for the server as a whole) is SERVING exactly
 * while `health()` says so, checked live rather than cached so a probe never sees a stale answer.
 */
export function addHealthService(server: Server, options: HealthServiceOptions): StopHealthWatches {
  const known = new Set(["", ...options.services]);
  const current = (): ServingStatus => (options.health() ? "SERVING" : "NOT_SERVING");
  const watches = new Set<ServerWritableStream<HealthRequest, unknown>>();
  const intervalMs = options.watchIntervalMs ?? 1_000;

  server.addService(healthDefinition, {
    check(call: ServerUnaryCall<HealthRequest, unknown>, callback: sendUnaryData<unknown>) {
      if (!known.has(call.request.service)) {
        callback({ code: status.NOT_FOUND, details: `unknown service "${call.request.service}"` });
        return;
      }
      callback(null, { status: current() });
    },
    watch(call: ServerWritableStream<HealthRequest, unknown>) {
      if (!known.has(call.request.service)) {
        // The protocol: an unknown service is reported, not refused, since it may be registered later.
        call.write({ status: "SERVICE_UNKNOWN" });
        return;
      }
      let last = current();
      call.write({ status: last });
      watches.add(call);
      const timer = setInterval(() => {
        const now = current();
        if (now !== last) call.write({ status: now });
        last = now;
      }, intervalMs);
      const stop = (): void => {
        clearInterval(timer);
        watches.delete(call);
      };
      call.on("cancelled", stop);
      call.on("finish", stop);
      call.on("close", stop);
    },
    list(_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) {
      const statuses: Record<string, { status: ServingStatus }> = {};
      const now = current();
      for (const name of known) statuses[name] = { status: now };
      callback(null, { statuses });
    },
  });
  return () => {
    for (const call of watches) call.end();
    watches.clear();
  };
}
