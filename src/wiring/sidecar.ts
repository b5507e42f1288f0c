import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { Authorizer } from "../core/authorizer.js";
import type { MappingService } from "../core/mapping-service.js";
import type { SnapshotSync } from "../core/snapshot-sync.js";
import type { RoleMappingStore } from "../core/store-port.js";
import { ApiTokens, type ApiAuth } from "../identity/api-credentials.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import { buildAdminAndMetricsListeners } from "./admin-metrics-listeners.js";
import type { CombinedRolesClock } from "./combined-roles.js";
import { buildGrpcListener } from "./grpc-listener.js";
import type { KeySource } from "./identity.js";
import { buildSidecarCore } from "./sidecar-core.js";
import { sidecarLifecycle } from "./sidecar-lifecycle.js";
import { buildWebhookListener } from "./webhook-listener.js";

/** The bound ports, as actually listening (useful when configured as 0). */
export interface SidecarAddresses {
  readonly webhookPort: number;
  readonly adminPort: number;
  readonly grpcPort: number;
  readonly metricsPort: number;
}

/** A built sidecar: nothing listens until start(). */
export interface Sidecar {
  readonly service: MappingService;
  readonly authorizer: Authorizer;
  readonly sync: SnapshotSync;
  /** This instance's Prometheus metrics (served at /metrics on the metrics listener). */
  readonly metrics: SidecarMetrics;
  start(): Promise<SidecarAddresses>;
  /** The bound ports; throws before start(). */
  ports(): SidecarAddresses;
  /**
   * Readiness off; for `drainMs` the listeners still answer but close each connection after its response;
   * then they stop accepting, in-flight requests finish within `graceMs`, the store is closed and spans flushed.
   * Calling it again returns the first call's promise.
   */
  stop(graceMs: number, drainMs?: number): Promise<void>;
}

/** What buildSidecar may be given instead of building it from the configuration (development mode, tests). */
export interface SidecarOverrides {
  readonly keySource?: KeySource;
  readonly store?: RoleMappingStore;
  readonly devJwks?: () => object;
  /** Trace every decision into this exporter, whatever OTEL_EXPORTER_OTLP_ENDPOINT says (tests). */
  readonly spanExporter?: SpanExporter;
  /** The clock combined roles' idle drops go by (tests move it days ahead). */
  readonly combinedRolesClock?: CombinedRolesClock;
}

/** Wires the core (store, snapshot, identity, services) and its listeners: webhook, admin, metrics and gRPC. */
export async function buildSidecar(
  config: Config,
  logger: Logger,
  overrides: SidecarOverrides = {},
): Promise<Sidecar> {
  const core = await buildSidecarCore(config, logger, overrides);
  let listening = false;
  let stopping = false;
  const ready = (): boolean => listening && !stopping && core.sync.ready();
  const webhook = await buildWebhookListener(config, core, ready, logger, overrides.devJwks);
  const auth: ApiAuth = {
    tokens: ApiTokens.load({ tokens: config.api.tokens.join(","), tokensFile: config.api.tokensFile }),
    insecure: config.api.insecure || config.devMode,
  };
  const grpc = buildGrpcListener(config, core, auth, ready, logger);
  const { admin, metrics } = buildAdminAndMetricsListeners(config, core, auth, ready, logger);
  core.metrics.watch({
    ready,
    snapshot: () => core.sync.stats(),
    caches: { ...core.identity.caches, operation: () => core.operations.stats() },
    inFlight: webhook.inFlight,
    healthWatchers: grpc.heldWatchers,
  });
  const { service, authorizer, sync } = core;
  return {
    service,
    authorizer,
    sync,
    metrics: core.metrics,
    ...sidecarLifecycle({
      core,
      http: {
        webhook: { handler: webhook.handler, host: config.webhook.host, port: config.webhook.port },
        admin: { handler: admin, host: config.admin.host, port: config.admin.port },
        metrics: { handler: metrics, host: config.metrics.host, port: config.metrics.port },
      },
      grpc,
      onListening: () => {
        listening = true;
      },
      onStop: () => {
        stopping = true;
      },
      closeWebhook: webhook.close,
    }),
  };
}
