import { context, type Context, type TextMapGetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";

const propagator = new W3CTraceContextPropagator();
const fromMap: TextMapGetter<ReadonlyMap<string, string>> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key.toLowerCase()),
};

/** The context of the caller's trace, from its W3C `traceparent`/`tracestate` headers (lower-case names). */
export function callerContext(headers: ReadonlyMap<string, string>): Context {
  return propagator.extract(context.active(), headers, fromMap);
}
