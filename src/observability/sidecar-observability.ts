import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { RequestHandler } from "express";
import type { AuthorizationResult } from "../core/authorizer.js";
import { ROLE_MAPPING_SERVICE_NAME } from "../grpc/server.js";
import type { CoreLogger, GroupProvider, TokenVerifier } from "../core/identity.js";
import type { DecisionSink } from "../http/decision-log.js";
import type { RoleMappingStore } from "../store/port.js";
import { grpcCallTracer, restTracing, type GrpcCallTracer } from "./api-tracing.js";
import { decisionTracer } from "./decision-tracing.js";
import { instrumentStore } from "./metered-store.js";
import { SidecarMetrics } from "./metrics.js";
import { observedDecisions } from "./observed-decisions.js";
import { tracedGroups, tracedStore, tracedVerifier } from "./traced-ports.js";
import { createTracing, type Tracing } from "./tracing.js";
import { auditWrites } from "./write-audit.js";

/** What a sidecar's observability is built from. */
export interface ObservabilityOptions {
  readonly logger: CoreLogger;
  /** OTEL_EXPORTER_OTLP_ENDPOINT; tracing is off unless this or `spanExporter` is set. */
  readonly otlpEndpoint?: string | undefined;
  /** Export spans here instead (tests: an in-memory exporter), each as it ends. */
  readonly spanExporter?: SpanExporter | undefined;
}

/** One sidecar's metrics, tracing and write audit, and the decorators that attach them to the ports. */
export interface SidecarObservability {
  readonly metrics: SidecarMetrics;
  /** Undefined when tracing is off. */
  readonly tracing: Tracing | undefined;
  /** Audited (writes), metered and traced. */
  wrapStore(store: RoleMappingStore): RoleMappingStore;
  wrapVerifier(verifier: TokenVerifier): TokenVerifier;
  wrapGroups(groups: GroupProvider): GroupProvider;
  /** The decision audit log plus decision metrics and trace ids. */
  decisions(log: DecisionSink): DecisionSink;
  /** The webhook's decision span, when tracing. */
  readonly traceDecision:
    | ((
        headers: ReadonlyMap<string, string>,
        decide: () => Promise<AuthorizationResult>,
      ) => Promise<AuthorizationResult>)
    | undefined;
  /** The span of each RoleMapping gRPC call, when tracing. */
  readonly traceGrpcCall: GrpcCallTracer | undefined;
  /** Express middleware giving each REST request a span, when tracing. */
  readonly traceRest: RequestHandler | undefined;
  /** Exports buffered spans and stops tracing. */
  shutdown(): Promise<void>;
}

/** Builds one sidecar's observability: its own metric registry and, when configured, its own tracer. */
export function createSidecarObservability(options: ObservabilityOptions): SidecarObservability {
  const metrics = new SidecarMetrics();
  const tracing = createTracing({
    endpoint: options.otlpEndpoint,
    ...(options.spanExporter ? { exporter: options.spanExporter, immediate: true } : {}),
  });
  const tracer = tracing?.tracer;
  return {
    metrics,
    tracing,
    wrapStore(store) {
      // Outermost is the audit, so the before-state reads it makes are metered and traced like any call.
      const traced = tracer ? tracedStore(store, tracer) : store;
      return auditWrites(instrumentStore(traced, metrics), { logger: options.logger, metrics });
    },
    wrapVerifier: (verifier) => (tracer ? tracedVerifier(verifier, tracer) : verifier),
    wrapGroups: (groups) => (tracer ? tracedGroups(groups, tracer) : groups),
    decisions: (log) => observedDecisions(log, metrics, tracer !== undefined),
    traceDecision: tracer ? decisionTracer(tracer) : undefined,
    traceGrpcCall: tracer ? grpcCallTracer(tracer, ROLE_MAPPING_SERVICE_NAME) : undefined,
    traceRest: tracer ? restTracing(tracer) : undefined,
    shutdown: () => tracing?.shutdown() ?? Promise.resolve(),
  };
}
