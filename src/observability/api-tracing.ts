import { context, SpanKind, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";
import type { RequestHandler } from "express";
import { callerContext } from "./trace-context.js";
import { traceHeaders } from "./trace-headers.js";

/**
 * Runs one gRPC call inside a server span: `headers` are the call's metadata (for the caller's traceparent),
 * `statusOf` names the gRPC status code a failure is answered with.
 */
export type GrpcCallTracer = <T>(
  method: string,
  headers: ReadonlyMap<string, string>,
  call: () => Promise<T>,
  statusOf: (error: unknown) => number,
) => Promise<T>;

/**
 * A span per RoleMapping call, `rolemapper.v1.RoleMappingService/<Method>`, continuing the caller's trace; the
 * store spans of the call become its children. Records the method and the status code, never the request.
 */
export function grpcCallTracer(tracer: Tracer, service: string): GrpcCallTracer {
  return (method, headers, call, statusOf) => {
    const parent = callerContext(headers);
    const attributes = { "rpc.system": "grpc", "rpc.service": service, "rpc.method": method };
    return tracer.startActiveSpan(
      `${service}/${method}`,
      { kind: SpanKind.SERVER, attributes },
      parent,
      async (span) => {
        try {
          const result = await call();
          span.setAttribute("rpc.grpc.status_code", 0);
          return result;
        } catch (error) {
          const code = statusOf(error);
          span.setAttribute("rpc.grpc.status_code", code);
          span.setStatus({ code: SpanStatusCode.ERROR });
          throw error;
        } finally {
          span.end();
        }
      },
    );
  };
}

/**
 * Express middleware: a server span per REST request, `<METHOD> <route>` once the route is known (the template,
 * e.g. `/v1/roles/:role_id`, never the ids), continuing the caller's trace; 5xx answers mark it as an error.
 */
export function restTracing(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    const parent = callerContext(traceHeaders((name) => req.get(name)));
    const span = tracer.startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method } },
      parent,
    );
    res.once("close", () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === "string") {
        span.updateName(`${req.method} ${route}`);
        span.setAttribute("http.route", route);
      }
      span.setAttribute("http.response.status_code", res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    // The handlers run in the span's context, so the store spans of their writes become its children.
    context.with(trace.setSpan(parent, span), next);
  };
}
