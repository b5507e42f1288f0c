import type { Logger } from "pino";
import type { AuthorizationResult } from "../core/authorizer.js";
import type { DecisionInstruments } from "./metrics.js";

/** One audit line per decision: a stable schema, never a token, a secret or a variable value. */
export interface DecisionRecord {
  readonly requestId: string | undefined;
  readonly latencyMs: number;
  readonly result: AuthorizationResult;
  /** The trace the decision ran in, when tracing is on. */
  readonly traceId?: string | undefined;
}

/** Where the webhook reports each decision: the audit log, and whatever else watches (metrics). */
export interface DecisionSink {
  record(record: DecisionRecord): void;
}

// Clients choose the request id, the operation name and (through them) error messages: each is clipped so one
// request of a megabyte cannot write a megabyte to the log.
export const MAX_ID_CHARS = 128;
export const MAX_NAME_CHARS = 256;
const MAX_MESSAGE_CHARS = 512;

/** `value` cut to `max` characters, marked with an ellipsis when cut. */
export function clip<T extends string | undefined>(value: T, max: number): T {
  return (value !== undefined && value.length > max ? `${value.slice(0, max)}…` : value) as T;
}

/** Writes decision audit lines; allowed decisions may be sampled, denials and failures never are. */
export class DecisionLog implements DecisionSink {
  constructor(
    private readonly logger: Logger,
    private readonly allowedSample: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Logs the decision (subject to sampling when allowed). */
  record({ requestId, latencyMs, result, traceId }: DecisionRecord): void {
    if (result.outcome === "allow" && this.allowedSample < 1 && this.random() >= this.allowedSample) return;
    // Below LOG_LEVEL (warn and above in most deployments) the line is not built at all: it is on every call.
    if (!this.logger.isLevelEnabled(result.outcome === "fail" ? "error" : "info")) return;
    const line = {
      event: "decision",
      request_id: clip(requestId, MAX_ID_CHARS),
      user: result.user,
      groups_count: result.groupCount,
      operation_type: result.operationType,
      operation_name: clip(result.operationName, MAX_NAME_CHARS),
      root_fields: result.rootFields.map((field) => clip(field, MAX_NAME_CHARS)),
      role: result.role,
      ...(result.parents === undefined ? {} : { parent_roles: result.parents }),
      outcome: result.outcome,
      reason: result.reason,
      latency_ms: Math.round(latencyMs * 1000) / 1000,
      ...(traceId === undefined ? {} : { trace_id: traceId }),
    };
    if (result.outcome === "fail") {
      const error = result.error instanceof Error ? result.error : new Error(String(result.error));
      // Not under `err`: pino's error serializer would take this plain object for an Error and log its type as
      // "Object"; only the name and message are wanted, never the error's other properties.
      this.logger.error(
        { ...line, error: { type: error.name, message: clip(error.message, MAX_MESSAGE_CHARS) } },
        "decision failed",
      );
    } else {
      this.logger.info(line, "decision");
    }
  }
}

/**
 * The decision audit log with each decision also counted (before sampling: metrics see every decision) and, when
 * tracing (`traceId` given), tagged with the trace id so a log line leads to its trace.
 */
export function observedDecisions(
  log: DecisionSink,
  instruments: DecisionInstruments | undefined,
  traceId?: () => string | undefined,
): DecisionSink {
  const counted = instruments && boundDecisionInstruments(instruments);
  return {
    record(record: DecisionRecord) {
      counted?.(record.result, record.latencyMs / 1000);
      const id = traceId?.();
      log.record(id === undefined ? record : { ...record, traceId: id });
    },
  };
}

// One label object per outcome and reason code, made once: these run on every webhook request. Bounded because
// reasons are a closed set of codes (they are Prometheus label values too): never put free text in a reason.
function boundDecisionInstruments(
  instruments: DecisionInstruments,
): (result: AuthorizationResult, seconds: number) => void {
  const labels = new Map<
    string,
    { full: { outcome: string; reason: string }; outcome: { outcome: string } }
  >();
  return (result, seconds) => {
    const { outcome, reason } = result;
    const key = `${outcome}\n${reason}`;
    let known = labels.get(key);
    if (known === undefined) {
      known = { full: { outcome, reason }, outcome: { outcome } };
      labels.set(key, known);
    }
    instruments.decisions.inc(known.full);
    instruments.decisionSeconds.observe(known.outcome, seconds);
    if (result.parents !== undefined) instruments.combinedDecisions.inc(known.outcome);
  };
}
