import type { RequestListener } from "node:http";
import { sendHealth } from "../http/health-answers.js";
import { sendJson } from "../http/json-response.js";
import { routePath } from "../http/route-path.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import { sendMetrics } from "../observability/metrics-route.js";

/**
 * The metrics listener: `/metrics` and the probes (`/healthz`, `/readyz`), nothing of the API, so a NetworkPolicy
 * can admit a monitoring namespace here without admitting it to the RoleMapping API. On node:http: it needs
 * nothing of express, which is then loaded only if the REST API is called.
 */
export function createMetricsApp(ready: () => boolean, metrics: SidecarMetrics): RequestListener {
  return (req, res) => {
    const path = routePath(req.url);
    if (req.method === "GET" || req.method === "HEAD") {
      if (sendHealth(res, path, ready)) return;
      if (path === "/metrics") return void sendMetrics(res, metrics);
    }
    sendJson(res, 404, "Not found");
  };
}
