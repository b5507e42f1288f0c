import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { GroupProvider, TokenVerifier } from "../core/identity.js";
import type { RoleMappingStore } from "../core/store-port.js";
import { apiCallTracer, type CallTracer } from "./api-tracing.js";
import { activeTraceId, decisionTracer, type DecisionTracer } from "./decision-tracing.js";
import { tracedGroups, tracedStore, tracedVerifier } from "./traced-ports.js";
import { createTracing, type Tracing } from "./tracing.js";

/** Everything tracing adds to a sidecar: imported only when tracing is on (it loads the OpenTelemetry SDK). */
export interface TracedObservability {
  readonly tracing: Tracing;
  wrapStore(store: RoleMappingStore): RoleMappingStore;
  wrapVerifier(verifier: TokenVerifier): TokenVerifier;
  wrapGroups(groups: GroupProvider): GroupProvider;
  readonly traceDecision: DecisionTracer;
  readonly traceApiCall: CallTracer;
  /** The trace id of the active span, for the decision log. */
  traceId(): string | undefined;
}

/** Tracing to an OTLP endpoint, or to `exporter` (each span as it ends); undefined when neither is given. */
export function createTracedObservability(options: {
  readonly endpoint?: string | undefined;
  readonly exporter?: SpanExporter | undefined;
}): TracedObservability | undefined {
  const tracing = createTracing({
    endpoint: options.endpoint,
    ...(options.exporter ? { exporter: options.exporter, immediate: true } : {}),
  });
  if (!tracing) return undefined;
  const { tracer } = tracing;
  return {
    tracing,
    wrapStore: (store) => tracedStore(store, tracer),
    wrapVerifier: (verifier) => tracedVerifier(verifier, tracer),
    wrapGroups: (groups) => tracedGroups(groups, tracer),
    traceDecision: decisionTracer(tracer),
    traceApiCall: apiCallTracer(tracer),
    traceId: activeTraceId,
  };
}
