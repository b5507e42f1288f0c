import { SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { AuthorizationResult } from "../core/authorizer.js";
import { callerContext } from "./trace-context.js";

/** Runs one webhook decision inside a span; see decisionTracer. */
export type DecisionTracer = (
  headers: ReadonlyMap<string, string>,
  decide: () => Promise<AuthorizationResult>,
) => Promise<AuthorizationResult>;

/**
 * A `decision` span per webhook call, continuing the client's trace when Hasura forwards its `traceparent`
 * header; token, group and store spans started during the decision become its children. Records the outcome,
 * reason, role and operation — never the user, a token or variables.
 */
export function decisionTracer(tracer: Tracer): DecisionTracer {
  return (headers, decide) => {
    const parent = callerContext(headers);
    return tracer.startActiveSpan("decision", { kind: SpanKind.SERVER }, parent, async (span) => {
      try {
        const result = await decide();
        span.setAttributes({
          "rolemapper.outcome": result.outcome,
          "rolemapper.reason": result.reason,
          ...(result.role === undefined ? {} : { "rolemapper.role": result.role }),
          ...(result.operationType === undefined ? {} : { "graphql.operation.type": result.operationType }),
          ...(result.operationName === undefined ? {} : { "graphql.operation.name": result.operationName }),
          "rolemapper.root_fields_count": result.rootFields.length,
        });
        // A denial is an answer; only a decision that could not be made is an error.
        if (result.outcome === "fail") span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason });
        return result;
      } finally {
        span.end();
      }
    });
  };
}

/** The trace id of the active span, for log lines; undefined when nothing is traced. */
export function activeTraceId(): string | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? traceId : undefined;
}
