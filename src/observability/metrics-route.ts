import type { ServerResponse } from "node:http";
import type { SidecarMetrics } from "./metrics.js";

/** Answers `GET /metrics` in the Prometheus text format (the metrics listener's; never the webhook's). */
export async function sendMetrics(res: ServerResponse, metrics: SidecarMetrics): Promise<void> {
  let status = 200;
  let type: string = metrics.registry.contentType;
  let body: string;
  try {
    body = await metrics.scrape();
  } catch {
    // A collector that throws must not take the listener down; the scrape shows up as failed instead.
    [status, type, body] = [500, "text/plain; charset=utf-8", "metrics collection failed\n"];
  }
  res.writeHead(status, { "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}
