import type { RequestListener } from "node:http";
import type { ApiPipelineOptions } from "../api/pipeline.js";
import type { ApiCore } from "../api/route.js";
import type { ApiAuth } from "../identity/api-credentials.js";
import { sendHealth } from "./health-answers.js";
import { sendJson, sendSystemError } from "./json-response.js";
import { openApiDocument } from "./openapi.js";
import { routePath } from "./route-path.js";

/** What the admin listener is built from: the core, the API pipeline's settings, readiness and the body bound. */
export interface AdminAppOptions extends ApiCore, ApiPipelineOptions {
  /** True once the mappings are loaded and the store reachable (`/readyz`). */
  readonly ready: () => boolean;
  /** Largest JSON body accepted (default 32 MiB); larger ones get 413. */
  readonly bodyLimitBytes?: number;
}

/** True when the REST form of the API is served: it authenticates by bearer token only. */
export function restApiEnabled(auth: ApiAuth): boolean {
  return auth.tokens?.configured === true || auth.insecure === true;
}

/**
 * The whole admin listener: the probes (`/healthz`, `/readyz`, and `/v1/health` kept for the previous service's
 * checks), answered at once, and the REST RoleMapping API with its OpenAPI document at `/v1/openapi.json` (both
 * without credentials). The API's express app is imported and built on its first request, so a sidecar whose
 * provisioner speaks gRPC never loads express (a tenth of a second of start-up and 5 MB in every pod). Without an
 * API token there is no REST API: only the probes, and a JSON 404 for anything else.
 */
export function createAdminApp(options: AdminAppOptions): RequestListener {
  const enabled = restApiEnabled(options.auth);
  let rest: Promise<RequestListener> | undefined;
  let document: object | undefined;
  return (req, res) => {
    const path = routePath(req.url);
    if (req.method === "GET" || req.method === "HEAD") {
      if (sendHealth(res, path, options.ready)) return;
      if (enabled && path === "/v1/openapi.json") return sendJson(res, 200, (document ??= openApiDocument()));
    }
    if (!enabled) return sendJson(res, 404, "Not found");
    rest ??= import("./rest-api.js").then(({ createRestApi }) => createRestApi(options));
    rest.then(
      (app) => app(req, res),
      () => sendSystemError(res),
    );
  };
}
