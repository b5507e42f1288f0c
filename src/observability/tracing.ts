import { context, type Tracer } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  SimpleSpanProcessor,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/** Where spans go: an OTLP/HTTP collector, or any exporter (tests use an in-memory one). */
export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; spans are posted to `<endpoint>/v1/traces`. */
  readonly endpoint?: string | undefined;
  /** Used instead of the OTLP exporter when given. */
  readonly exporter?: SpanExporter;
  /** Export each span as it ends instead of in batches (tests). */
  readonly immediate?: boolean;
  /** Default "hasura-rolemapper". */
  readonly serviceName?: string;
}

/** A sidecar's own tracer provider: spans of one instance never mix with another's. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Exports what is buffered. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** The collector's traces URL for an OTEL_EXPORTER_OTLP_ENDPOINT base, as the OTLP exporter spec builds it. */
export function otlpTracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, "")}/v1/traces`;
}

/** Tracing as configured, or undefined when off (no endpoint and no exporter given). */
export function createTracing(options: TracingOptions): Tracing | undefined {
  const exporter =
    options.exporter ??
    (options.endpoint ? new OTLPTraceExporter({ url: otlpTracesUrl(options.endpoint) }) : undefined);
  if (!exporter) return undefined;
  enableContextPropagation();
  const processor = options.immediate ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: options.serviceName ?? "hasura-rolemapper" }),
    spanProcessors: [processor],
  });
  return {
    tracer: provider.getTracer("hasura-rolemapper"),
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

let propagationEnabled = false;

// Spans started inside awaited calls (token check, group lookup, store) find their parent through the active
// context, which needs an AsyncLocalStorage context manager. It is process-wide by nature; set it once.
function enableContextPropagation(): void {
  if (propagationEnabled) return;
  propagationEnabled = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
}
