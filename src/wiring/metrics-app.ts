import express, { type Express } from "express";
import { healthRoutes } from "../http/health-routes.js";
import { notFound } from "../http/not-found.js";
import { metricsRoute } from "../observability/metrics-route.js";
import type { SidecarMetrics } from "../observability/metrics.js";

/**
 * The metrics listener's app: `/metrics` and the probes (`/healthz`, `/readyz`), nothing of the API, so a
 * NetworkPolicy can admit a monitoring namespace here without admitting it to the RoleMapping API.
 */
export function createMetricsApp(ready: () => boolean, metrics: SidecarMetrics): Express {
  const app = express();
  app.disable("x-powered-by");
  app.use(healthRoutes(ready));
  app.use(metricsRoute(metrics));
  app.use(notFound);
  return app;
}
