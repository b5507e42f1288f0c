import { SpanKind, SpanStatusCode, type Attributes, type Tracer } from "@opentelemetry/api";
import { callerContext } from "./trace-context.js";
import { traceHeaders } from "./trace-headers.js";

/** A RoleMapping call as the API pipeline describes it (src/api/pipeline.ts, ApiCall): what its span needs. */
export interface TracedCall {
  readonly span: { readonly name: string; readonly attributes: Attributes };
  /** A header or metadata entry, by lower-case name. */
  header(name: string): string | undefined;
  /** The span's status attributes for an outcome, and whether it failed. */
  status(outcome: { readonly ok: true } | { readonly ok: false; readonly error: unknown }): {
    readonly spanAttributes: Attributes;
    readonly failed: boolean;
  };
}

/** Runs a call in its server span. */
export type CallTracer = <T>(call: TracedCall, work: () => Promise<T>) => Promise<T>;

/**
 * A server span per RoleMapping call, named and described by its transport (`rolemapper.v1.RoleMappingService/
 * SetUserRoles`, `PUT /v1/user_roles`: a route template, never an id), continuing the caller's trace; the store
 * spans of the call become its children. Records the status, never the request.
 */
export function apiCallTracer(tracer: Tracer): CallTracer {
  return (call, work) => {
    const parent = callerContext(traceHeaders((name) => call.header(name)));
    const { name, attributes } = call.span;
    return tracer.startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        const result = await work();
        span.setAttributes(call.status({ ok: true }).spanAttributes);
        return result;
      } catch (error) {
        const status = call.status({ ok: false, error });
        span.setAttributes(status.spanAttributes);
        if (status.failed) span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    });
  };
}
