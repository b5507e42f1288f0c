import type { DecisionRecord, DecisionSink } from "../http/decision-log.js";
import { activeTraceId } from "./decision-tracing.js";
import type { SidecarMetrics } from "./metrics.js";

/**
 * The decision audit log with each decision also counted in `metrics` (before sampling: metrics see every
 * decision) and, when tracing, tagged with the trace id so a log line leads to its trace.
 */
export function observedDecisions(
  log: DecisionSink,
  metrics: SidecarMetrics | undefined,
  tracing: boolean,
): DecisionSink {
  return {
    record(record: DecisionRecord) {
      const { outcome, reason } = record.result;
      metrics?.observeDecision(outcome, reason, record.latencyMs / 1000);
      const traceId = tracing ? activeTraceId() : undefined;
      log.record(traceId === undefined ? record : { ...record, traceId });
    },
  };
}
