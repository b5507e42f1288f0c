/** The W3C trace headers among `get`'s (`traceparent`, `tracestate`), for the tracers' callerContext. */
export function traceHeaders(get: (name: string) => string | undefined): Map<string, string> {
  const headers = new Map<string, string>();
  for (const name of ["traceparent", "tracestate"]) {
    const value = get(name);
    if (value !== undefined) headers.set(name, value);
  }
  return headers;
}
