import type { RequestListener } from "node:http";
import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import type { ApiAuth } from "../identity/api-credentials.js";
import { createAdminApp, restApiEnabled } from "../http/admin-app.js";
import { createMetricsApp } from "./metrics-app.js";
import type { SidecarCore } from "./sidecar-core.js";

/** The two plain HTTP listeners beside the webhook: the admin one (probes, REST API) and the metrics one. */
export interface AdminAndMetricsListeners {
  readonly admin: RequestListener;
  readonly metrics: RequestListener;
}

/** Builds the admin listener's handler (warning when the REST API is off) and the metrics listener's. */
export function buildAdminAndMetricsListeners(
  config: Config,
  core: SidecarCore,
  auth: ApiAuth,
  ready: () => boolean,
  logger: Logger,
): AdminAndMetricsListeners {
  const admin = createAdminApp({
    ready,
    service: core.service,
    authorizer: core.authorizer,
    auth,
    bodyLimitBytes: config.admin.bodyLimitBytes,
    logger,
    ...core.observability.apiCalls,
  });
  if (!restApiEnabled(auth)) {
    logger.warn(
      { event: "rest_api_disabled" },
      "REST RoleMapping API disabled: it needs ROLEMAPPER_API_TOKENS(_FILE)",
    );
  }
  return { admin, metrics: createMetricsApp(ready, core.metrics) };
}
