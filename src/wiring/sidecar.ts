import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import { bindGrpcServer, createGrpcServer, heldHealthWatchers, shutdownGrpcServer } from "../grpc/server.js";
import { ROLE_MAPPING_SERVICE_NAME } from "../grpc/service-name.js";
import { grpcServerCredentials } from "../grpc/tls.js";
import { ApiTokens, type ApiAuth } from "../identity/api-credentials.js";
import type { Config } from "../config/index.js";
import { Authorizer } from "../core/authorizer.js";
import { MappingService } from "../core/mapping-service.js";
import { OperationCache } from "../core/operation-cache.js";
import { reservedRoleIds } from "../core/reserved-roles.js";
import { SnapshotSync } from "../core/snapshot-sync.js";
import { DecisionLog } from "../observability/decision-log.js";
import { createWebhookApp } from "../http/webhook-app.js";
import { countInFlight } from "../observability/in-flight.js";
import { createSidecarObservability } from "../observability/sidecar-observability.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import { openStore } from "./store.js";
import type { RoleMappingStore } from "../core/store-port.js";
import { buildCombinedRoles, type CombinedRolesClock } from "./combined-roles.js";
import { buildGroups } from "./groups.js";
import { buildIdentity, remoteKeySource, type KeySource } from "./identity.js";
import { createAdminListener, restApiEnabled } from "./admin-listener.js";
import { listen, type Listening } from "./listen.js";
import { createMetricsApp } from "./metrics-app.js";

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

/** Wires store, snapshot, identity, core and transports from one validated configuration. */
export async function buildSidecar(
  config: Config,
  logger: Logger,
  overrides: SidecarOverrides = {},
): Promise<Sidecar> {
  const observability = await createSidecarObservability({
    logger,
    otlpEndpoint: config.otlpEndpoint,
    spanExporter: overrides.spanExporter,
    grpcService: ROLE_MAPPING_SERVICE_NAME,
  });
  const { metrics } = observability;
  const opened = overrides.store ?? (await openStore(config.store, logger));
  const store = observability.wrapStore(opened);
  const reservedRoles = reservedRoleIds(config.reservedRoleIds);
  const identity = buildIdentity(
    config,
    logger,
    overrides.keySource ?? remoteKeySource(config, logger),
    (target, attempt) => metrics.observeIdentityCall(target, attempt.status, attempt.throttled),
  );
  const sync = new SnapshotSync(store, {
    // Following the journal, the safety net's period; reloading in full (as before the journal), the refresh's.
    verifyMs: config.snapshot.sync === "full" ? config.snapshot.refreshMs : config.snapshot.verifyMs,
    mode: config.snapshot.sync,
    listen: config.snapshot.listen,
    pollMs: Math.max(50, Math.min(1000, config.snapshot.maxLagMs / 2)),
    maxStalenessMs: config.snapshot.maxStalenessMs,
    logger,
    reservedRoles,
    groupPins: identity.pinned !== undefined,
  });
  const { groups, pinning } = buildGroups(identity, store, sync, logger, metrics);
  const combined =
    config.combinedRoles &&
    buildCombinedRoles(config.combinedRoles, config.snapshot.refreshMs, logger, metrics, {
      ledger: opened.combinedRoleLedger?.(),
      clock: overrides.combinedRolesClock,
    });
  const service = new MappingService(
    store,
    sync,
    { maxSubjects: config.limits.maxSubjects, maxRootFields: config.limits.maxRootFields, maxPageSize: 1000 },
    reservedRoles,
    pinning,
    combined?.roles,
  );
  const operations = new OperationCache({
    maxChars: config.webhook.operationCacheChars,
    limits: {
      maxQueryLength: config.webhook.maxQueryLength,
      maxTokens: config.webhook.maxTokens,
      maxRootFields: 1000,
    },
  });
  const authorizer = new Authorizer({
    verifier: observability.wrapVerifier(identity.verifier),
    groups: observability.wrapGroups(groups),
    userName: identity.userName,
    snapshot: () => sync.fresh(),
    operations,
    tokenHeaders: config.identity.tokenHeaders,
    allowIntrospection: config.webhook.allowIntrospection,
    maxBatch: config.webhook.maxBatch,
    websocketSessionMaxS: config.webhook.websocketSessionMaxS,
    combined: combined && { options: combined.options, roles: combined.roles },
  });
  let stopping = false;
  const ready = (): boolean => !stopping && sync.ready();
  const shadow = await buildShadow(config, logger, metrics);
  const webhookApp = createWebhookApp({
    authorizer,
    decisions: observability.decisions(new DecisionLog(logger, config.audit.allowedSample)),
    ...(observability.traceDecision ? { traceDecision: observability.traceDecision } : {}),
    ready,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    maxBatch: config.webhook.maxBatch,
    logger,
    ...(overrides.devJwks ? { devJwks: overrides.devJwks } : {}),
    ...(shadow ? { answerHook: shadow.mode } : {}),
  });

  const auth: ApiAuth = {
    tokens: ApiTokens.load({ tokens: config.api.tokens.join(","), tokensFile: config.api.tokensFile }),
    insecure: config.api.insecure || config.devMode,
  };
  const tls = config.grpc.tls && {
    cert: readFileSync(config.grpc.tls.cert),
    key: readFileSync(config.grpc.tls.key),
    clientCa: readFileSync(config.grpc.tls.clientCa),
  };
  const grpcServer = createGrpcServer({
    service,
    authorizer,
    health: ready,
    auth,
    tls,
    limits: {
      maxReceiveMessageBytes: config.grpc.maxMessageBytes,
      maxConnections: config.grpc.maxConnections,
      maxConcurrentStreams: config.grpc.maxConcurrentStreams,
      keepaliveTimeMs: config.grpc.keepaliveTimeMs,
      keepaliveTimeoutMs: config.grpc.keepaliveTimeoutMs,
      maxConnectionIdleMs: config.grpc.maxConnectionIdleMs,
      maxConnectionAgeMs: config.grpc.maxConnectionAgeMs,
      maxConnectionAgeGraceMs: config.grpc.maxConnectionAgeGraceMs,
      maxHealthWatchers: config.grpc.maxWatchers,
    },
    logger,
    onCall: (method, code, seconds) => metrics.observeGrpcCall(method, code, seconds),
    traceCall: observability.traceGrpcCall,
  });
  const adminListener = createAdminListener({
    ready,
    service,
    auth,
    bodyLimitBytes: config.admin.bodyLimitBytes,
    logger,
    traceRest: observability.traceRest,
  });
  if (!restApiEnabled(auth)) {
    logger.warn(
      { event: "rest_api_disabled" },
      "REST RoleMapping API disabled: it needs ROLEMAPPER_API_TOKENS(_FILE)",
    );
  }

  const webhookHandler = countInFlight(webhookApp);
  metrics.watch({
    ready,
    snapshot: () => sync.stats(),
    caches: { ...identity.caches, operation: () => operations.stats() },
    inFlight: webhookHandler.inFlight,
    healthWatchers: () => heldHealthWatchers(grpcServer),
  });

  const listeners: Listening[] = [];
  let grpcBound = false;
  let addresses: SidecarAddresses | undefined;
  let stopped: Promise<void> | undefined;
  return {
    service,
    authorizer,
    sync,
    metrics,
    async start() {
      // Listen first: in the pod, Hasura (the store) starts only once this sidecar's startup probe answers.
      const webhook = await listen(webhookHandler.handler, config.webhook.host, config.webhook.port);
      listeners.push(webhook);
      const admin = await listen(adminListener, config.admin.host, config.admin.port);
      listeners.push(admin);
      const metricsListener = await listen(
        createMetricsApp(ready, metrics),
        config.metrics.host,
        config.metrics.port,
      );
      listeners.push(metricsListener);
      for (const listener of listeners) closeConnectionsWhen(listener.server, () => stopping);
      await sync.start();
      combined?.start();
      const grpcPort = await bindGrpcServer(
        grpcServer,
        config.grpc.host,
        config.grpc.port,
        grpcServerCredentials(tls),
      );
      grpcBound = true;
      addresses = {
        webhookPort: webhook.port,
        adminPort: admin.port,
        grpcPort,
        metricsPort: metricsListener.port,
      };
      return addresses;
    },
    ports() {
      if (!addresses) throw new Error("the sidecar is not started");
      return addresses;
    },
    stop(graceMs, drainMs = 0) {
      // A second call (a second signal, a test's teardown) waits for the first instead of closing twice.
      stopped ??= (async () => {
        stopping = true;
        // Requests already on their way over kept-alive connections are answered, not reset, while the
        // clients learn (Connection: close) to open new connections, which will find the port closed.
        if (drainMs > 0 && listeners.length > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
        sync.stop();
        combined?.stop();
        await Promise.all([
          ...listeners.map((listener) => listener.close(graceMs)),
          grpcBound ? shutdownGrpcServer(grpcServer, graceMs) : Promise.resolve(),
        ]);
        await store.close();
        await shadow?.close();
        await observability.shutdown();
      })();
      return stopped;
    },
  };
}

// Shadow mode (SHADOW_WEBHOOK_URL): the previous webhook asked beside this one, its comparisons counted. Loaded
// only when configured: its HTTP client (undici) is not needed otherwise.
async function buildShadow(config: Config, logger: Logger, metrics: SidecarMetrics) {
  if (!config.shadow) return undefined;
  const [{ shadowClient }, { ShadowMode }] = await Promise.all([
    import("../shadow/shadow-client.js"),
    import("../shadow/shadow-mode.js"),
  ]);
  const { url, timeoutMs, sample, maxInFlight, maxBytesInFlight, answer } = config.shadow;
  const client = shadowClient(url, timeoutMs, maxInFlight);
  const mode = new ShadowMode({
    post: client.post,
    sample,
    maxInFlight,
    maxBytesInFlight,
    answer,
    logger,
    onComparison: (result) => metrics.observeShadowComparison(result),
    onOverLimit: () => metrics.observeShadowOverLimit(),
  });
  logger.info(
    { event: "shadow_mode", shadow_answer: answer, shadow_sample: sample, shadow_max_in_flight: maxInFlight },
    answer === "shadow"
      ? "shadow mode: Hasura gets the previous webhook's answers, compared with this sidecar's"
      : "shadow mode: this sidecar answers; the previous webhook's answers are compared",
  );
  return { mode, close: () => client.close() };
}

// Once stopping, every response asks the client to close its connection instead of reusing it.
function closeConnectionsWhen(server: Server, stopping: () => boolean): void {
  server.prependListener("request", (_req, res) => {
    if (stopping()) res.setHeader("connection", "close");
  });
}
