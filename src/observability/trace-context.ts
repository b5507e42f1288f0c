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

/** The W3C trace headers among `get`'s, for callerContext. */
export function traceHeaders(get: (name: string) => string | undefined): Map<string, string> {
  const headers = new Map<string, string>();
  for (const name of ["traceparent", "tracestate"]) {
    const value = get(name);
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}
