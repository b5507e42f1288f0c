import type { RequestListener } from "node:http";
import type { RequestHandler } from "express";
import type { CoreLogger } from "../core/identity.js";
import type { MappingService } from "../core/mapping-service.js";
import { sendHealth } from "../http/health-answers.js";
import { sendJson, sendSystemError } from "../http/json-response.js";
import { routePath } from "../http/route-path.js";
import type { ApiAuth } from "../identity/api-credentials.js";

/** What the admin listener is built from. */
export interface AdminListenerOptions {
  readonly ready: () => boolean;
  readonly service: MappingService;
  readonly auth: ApiAuth;
  readonly bodyLimitBytes: number;
  readonly logger: CoreLogger;
  /** Express middleware giving each REST request a span, when tracing. */
  readonly traceRest?: RequestHandler | undefined;
}

/** True when the REST form of the API is served: it authenticates by bearer token only. */
export function restApiEnabled(auth: ApiAuth): boolean {
  return auth.tokens?.configured === true || auth.insecure === true;
}

/**
 * The admin listener: the probes, answered at once, and the REST RoleMapping API — an express app imported and
 * built on its first request, so a sidecar whose provisioner speaks gRPC never loads express (a tenth of a second
 * of start-up and 5 MB in every pod). Without an API token there is no REST API, only the probes and a JSON 404.
 */
export function createAdminListener(options: AdminListenerOptions): RequestListener {
  const enabled = restApiEnabled(options.auth);
  let rest: Promise<RequestListener> | undefined;
  return (req, res) => {
    if ((req.method === "GET" || req.method === "HEAD") && sendHealth(res, routePath(req.url), options.ready))
      return;
    if (!enabled) return sendJson(res, 404, "Not found");
    rest ??= restApp(options);
    rest.then(
      (app) => app(req, res),
      () => sendSystemError(res),
    );
  };
}

async function restApp(options: AdminListenerOptions): Promise<RequestListener> {
  const [{ default: express }, { createAdminApp }, { notFound }] = await Promise.all([
    import("express"),
    import("../http/admin-app.js"),
    import("../http/not-found.js"),
  ]);
  const app = express();
  app.disable("x-powered-by");
  // The probes are answered before this app and never traced; the RoleMapping routes are.
  if (options.traceRest) app.use(options.traceRest);
  const { service, auth, bodyLimitBytes, logger } = options;
  app.use(createAdminApp({ service, auth, bodyLimitBytes, logger }));
  app.use(notFound);
  return app;
}
