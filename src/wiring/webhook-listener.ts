import type { RequestListener } from "node:http";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { createWebhookApp } from "../http/webhook-app.js";
import { fixedShapeLogger } from "../logger.js";
import { DecisionLog } from "../observability/decision-log.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import type { SidecarCore } from "./sidecar-core.js";

/** The webhook's request handler, the requests it is answering (for metrics), and what to close at stop. */
export interface WebhookListener {
  readonly handler: RequestListener;
  readonly inFlight: () => number;
  /** Closes the shadow client's connections and ends its thread, if shadow mode is on. */
  close(): Promise<void>;
}

/** Builds the handler Hasura's webhook calls reach, with shadow mode when SHADOW_WEBHOOK_URL is set. */
export async function buildWebhookListener(
  config: Config,
  core: SidecarCore,
  ready: () => boolean,
  logger: Logger,
  devJwks: (() => object) | undefined,
): Promise<WebhookListener> {
  const { observability } = core;
  const shadow = await buildShadow(config, logger, core.metrics);
  const app = createWebhookApp({
    authorizer: core.authorizer,
    decisions: observability.decisions(new DecisionLog(logger, config.audit.allowedSample)),
    ...(observability.traceDecision ? { traceDecision: observability.traceDecision } : {}),
    ready,
    bodyLimitBytes: config.webhook.bodyLimitBytes,
    maxBatch: config.webhook.maxBatch,
    logger,
    ...(devJwks ? { devJwks } : {}),
    ...(shadow ? { answerHook: shadow.mode } : {}),
  });
  return { handler: app, inFlight: app.inFlight, close: async () => shadow?.close() };
}

/**
 * With SHADOW_ANSWER=self, the calls (and their answers) of this long go between the threads in one message: each
 * message costs the answering thread a wake-up and a hand-off, about as much as a decision (docs/performance.md).
 */
const SELF_GATHER_MS = 10;

// Shadow mode (SHADOW_WEBHOOK_URL): the previous webhook asked beside this one, its comparisons counted. Loaded
// only when configured. The calls are made on a thread of their own (its HTTP client, undici, loaded there only):
// the HTTP exchange with the previous service then does not delay this thread's answers to Hasura.
async function buildShadow(config: Config, logger: Logger, metrics: SidecarMetrics) {
  if (!config.shadow) return undefined;
  const [{ shadowWorkerClient }, { ShadowMode }] = await Promise.all([
    import("../shadow/shadow-worker-client.js"),
    import("../shadow/shadow-mode.js"),
  ]);
  const { url, timeoutMs, sample, maxInFlight, maxBytesInFlight, answer } = config.shadow;
  // With `self` nobody waits for the previous service's answer; with `shadow` Hasura does, and each turn's calls go.
  const gatherMs = answer === "self" ? SELF_GATHER_MS : 0;
  const client = shadowWorkerClient({ url, timeoutMs, connections: maxInFlight, gatherMs, logger });
  const mode = new ShadowMode({
    post: client.post,
    sample,
    maxInFlight,
    maxBytesInFlight,
    answer,
    // Its lines (shadow_diff, throttled warnings) are built field by field from decisions and statuses.
    logger: fixedShapeLogger(logger),
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
