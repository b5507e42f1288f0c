import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { GroupProvider, TokenVerifier } from "../core/identity.js";
import type { CoreLogger } from "../core/logger-port.js";
import type { WriteAudit } from "../core/write-audit.js";
import { observedDecisions, type DecisionSink } from "./decision-log.js";
import type { RoleMappingStore } from "../core/store-port.js";
import type { CallTracer } from "./api-tracing.js";
import type { DecisionTracer } from "./decision-tracing.js";
import { instrumentStore } from "./store-calls.js";
import { SidecarMetrics } from "./metrics.js";
import type { Tracing } from "./tracing.js";
import { writeAuditLog } from "./write-audit.js";

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
  /** Metered and traced. */
  wrapStore(store: RoleMappingStore): RoleMappingStore;
  /** The `mapping_write` audit line and write metrics the mapping service reports each write to. */
  readonly writeAudit: WriteAudit;
  wrapVerifier(verifier: TokenVerifier): TokenVerifier;
  wrapGroups(groups: GroupProvider): GroupProvider;
  /** The decision audit log plus decision metrics and trace ids. */
  decisions(log: DecisionSink): DecisionSink;
  /** The webhook's decision span, when tracing. */
  readonly traceDecision: DecisionTracer | undefined;
  /** The API pipeline's metrics step and, when tracing, its span: the same for gRPC and REST. */
  readonly apiCalls: {
    onCall(
      call: { readonly transport: "grpc" | "rest"; readonly route: string },
      status: { readonly label: string },
      seconds: number,
    ): void;
    readonly traceCall: CallTracer | undefined;
  };
  /** Exports buffered spans and stops tracing. */
  shutdown(): Promise<void>;
}

/**
 * Builds one sidecar's observability: its own metric registry and, when configured, its own tracer. The
 * OpenTelemetry SDK and exporter are imported only when tracing is on.
 */
export async function createSidecarObservability(
  options: ObservabilityOptions,
): Promise<SidecarObservability> {
  const metrics = new SidecarMetrics();
  const traced =
    options.otlpEndpoint || options.spanExporter
      ? (await import("./traced-observability.js")).createTracedObservability({
          endpoint: options.otlpEndpoint,
          exporter: options.spanExporter,
        })
      : undefined;
  return {
    metrics,
    tracing: traced?.tracing,
    wrapStore: (store) => instrumentStore(traced ? traced.wrapStore(store) : store, metrics),
    writeAudit: writeAuditLog({ logger: options.logger, metrics }),
    wrapVerifier: (verifier) => (traced ? traced.wrapVerifier(verifier) : verifier),
    wrapGroups: (groups) => (traced ? traced.wrapGroups(groups) : groups),
    decisions: (log) => observedDecisions(log, metrics.decisionInstruments, traced?.traceId),
    traceDecision: traced?.traceDecision,
    apiCalls: {
      onCall: (call, status, seconds) =>
        metrics.observeApiCall(call.transport, call.route, status.label, seconds),
      traceCall: traced?.traceApiCall,
    },
    shutdown: () => traced?.tracing.shutdown() ?? Promise.resolve(),
  };
}
