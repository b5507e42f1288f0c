import { Router } from "express";
import { HEALTH_PATHS, healthAnswer } from "./health-answers.js";

/** Liveness and readiness for probes (see healthAnswer), as express routes for the admin and metrics listeners. */
export function healthRoutes(ready: () => boolean): Router {
  const router = Router();
  for (const path of HEALTH_PATHS) {
    router.get(path, (_req, res) => {
      const answer = healthAnswer(path, ready);
      if (answer) res.status(answer.status).json(answer.body);
    });
  }
  return router;
}
