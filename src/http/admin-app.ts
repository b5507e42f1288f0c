import express, { type Express, type RequestHandler } from "express";
import { DEFAULTS } from "../config/defaults.js";
import type { CoreLogger } from "../core/identity.js";
import type { MappingService } from "../core/mapping-service.js";
import { requireApiAuth, type ApiAuth, type ApiCaller } from "../identity/api-credentials.js";
import { adminAuth } from "./admin-auth.js";
import { adminRoutes } from "./admin-routes.js";
import { openApiDocument } from "./openapi.js";

/** What the REST form of the RoleMapping API is built from. */
export interface AdminAppOptions {
  readonly service: MappingService;
  readonly auth: ApiAuth;
  /** True when the lead serves the app over HTTPS verifying client certificates against a CA. */
  readonly clientCertificates?: boolean;
  /** Largest JSON body accepted (default 32 MiB: user lists can be long); larger ones get 413. */
  readonly bodyLimitBytes?: number;
  readonly logger: CoreLogger;
}

/**
 * The REST form of the RoleMapping API as an express app, not listening: the old service's routes and
 * bodies, `DELETE /v1/roles/{role_id}`, `GET /v1/health` and `GET /v1/openapi.json` (these two need no
 * credentials). Throws when no authentication is configured unless `auth.insecure` is set.
 */
export function createAdminApp(options: AdminAppOptions): Express {
  const clientCertificates = options.clientCertificates === true;
  requireApiAuth(options.auth, clientCertificates, "REST");
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.get("/v1/health", (_req, res) => {
    res.json("Alive");
  });
  const document = openApiDocument();
  app.get("/v1/openapi.json", (_req, res) => {
    res.json(document);
  });
  app.use(
    adminRoutes({
      service: options.service,
      bodyLimitBytes: options.bodyLimitBytes ?? DEFAULTS.admin.bodyLimitBytes,
      logger: options.logger,
      // Authentication runs before the body is read; only the API's own routes are guarded.
      guard: [audit(options.logger), adminAuth(options.auth, clientCertificates, options.logger)],
    }),
  );
  return app;
}

// One line per API request: who, what, the outcome; never a header or a body.
function audit(logger: CoreLogger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.on("finish", () => {
      const caller = res.locals.caller as ApiCaller | undefined;
      logger.info({
        event: "api_call",
        transport: "rest",
        method: `${req.method} ${req.originalUrl.split("?")[0]}`,
        caller: caller?.name,
        auth: caller?.method,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
    });
    next();
  };
}
