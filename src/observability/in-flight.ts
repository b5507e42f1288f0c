import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";

/** A request handler that knows how many of its requests are still being answered. */
export interface CountedHandler {
  readonly handler: RequestListener;
  inFlight(): number;
}

/** Wraps `inner`, counting each request from its arrival until its response is finished or its socket closed. */
export function countInFlight(inner: RequestListener): CountedHandler {
  let active = 0;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    active++;
    // "close" fires once per response, after "finish" or on an aborted connection.
    res.once("close", () => {
      active--;
    });
    inner(req, res);
  };
  return { handler, inFlight: () => active };
}
