import type { DecisionRecord, DecisionSink } from "./decision-log.js";
import type { SidecarMetrics } from "./metrics.js";

/**
 * The decision audit log with each decision also counted in `metrics` (before sampling: metrics see every
 * decision) and, when tracing (`traceId` given), tagged with the trace id so a log line leads to its trace.
 */
export function observedDecisions(
  log: DecisionSink,
  metrics: SidecarMetrics | undefined,
  traceId?: () => string | undefined,
): DecisionSink {
  return {
    record(record: DecisionRecord) {
      const { outcome, reason } = record.result;
      metrics?.observeDecision(outcome, reason, record.latencyMs / 1000);
      if (record.result.parents !== undefined) metrics?.observeCombinedDecision(outcome);
      const id = traceId?.();
      log.record(id === undefined ? record : { ...record, traceId: id });
    },
  };
}
