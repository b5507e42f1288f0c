import { Router } from "express";
import type { SidecarMetrics } from "./metrics.js";

/** `GET /metrics` in the Prometheus text format, for the admin listener (never the webhook's). */
export function metricsRoute(metrics: SidecarMetrics): Router {
  const router = Router();
  router.get("/metrics", async (_req, res) => {
    try {
      const body = await metrics.scrape();
      res.set("content-type", metrics.registry.contentType).send(body);
    } catch {
      // A collector that throws must not take the listener down; the scrape shows up as failed instead.
      res.status(500).type("text/plain").send("metrics collection failed\n");
    }
  });
  return router;
}
