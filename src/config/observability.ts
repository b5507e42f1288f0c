import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** Logs, metrics, the decision audit and tracing. */
export interface ObservabilityConfig {
  readonly logLevel: string;
  /** The listener of `/metrics` and the probes, apart from the API so that scrapers need no API access. */
  readonly metrics: { readonly host: string; readonly port: number };
  readonly audit: { readonly allowedSample: number };
  readonly otlpEndpoint: string | undefined;
}

/** Reads LOG_LEVEL, METRICS_HOST, METRICS_PORT, AUDIT_ALLOWED_SAMPLE and OTEL_EXPORTER_OTLP_ENDPOINT. */
export function readObservability(env: EnvReader, apiHost: string): ObservabilityConfig {
  return {
    logLevel: env.oneOf("LOG_LEVEL", LOG_LEVELS, DEFAULTS.logLevel),
    metrics: {
      host: env.string("METRICS_HOST", apiHost),
      port: env.port("METRICS_PORT", DEFAULTS.metrics.port),
    },
    audit: { allowedSample: env.number("AUDIT_ALLOWED_SAMPLE", DEFAULTS.audit.allowedSample, 0, 1) },
    otlpEndpoint: env.url("OTEL_EXPORTER_OTLP_ENDPOINT"),
  };
}

/** The other listeners' ports, which METRICS_PORT must not take. */
export interface ListenerPorts {
  readonly webhook: number;
  readonly admin: number;
  readonly grpc: number;
}

/** Refuses a METRICS_PORT another listener binds: the clash would otherwise fail only at start. */
export function checkMetricsPort(env: EnvReader, port: number, taken: ListenerPorts): void {
  if (port !== 0 && [taken.webhook, taken.admin, taken.grpc].includes(port)) {
    env.fail("METRICS_PORT", "must differ from WEBHOOK_PORT, ADMIN_HTTP_PORT and GRPC_PORT", String(port), 0);
  }
}
