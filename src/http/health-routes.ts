import { Router } from "express";

/** Liveness and readiness for probes: `/healthz` (process up), `/readyz` (store reachable, snapshot loaded). */
export function healthRoutes(ready: () => boolean): Router {
  const router = Router();
  // The old service's health route, kept for existing checks.
  router.get("/v1/health", (_req, res) => {
    res.json("Alive");
  });
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  router.get("/readyz", (_req, res) => {
    if (ready()) res.json({ status: "ready" });
    else res.status(503).json({ status: "not ready" });
  });
  return router;
}
