import express, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type RequestHandler,
  type Response,
} from "express";
import { apiPipeline, type ApiCall, type ApiPipeline, type ApiPipelineOptions } from "../api/pipeline.js";
import { fromRestFields, type ApiCore, type ApiRoute, type RestRoute, type RpcName } from "../api/route.js";
import { API_ROUTES } from "../api/routes.js";
import { DEFAULTS } from "../config/defaults.js";
import { InvalidArgumentError, NotFoundError } from "../core/errors.js";
import type { Caller } from "../core/write-audit.js";
import { requireApiAuth } from "../identity/api-credentials.js";
import { readJsonBody } from "./request-body.js";
import { sendRestFailure } from "./rest-answers.js";
import { toHttpStatus } from "./status.js";

/** What the REST form of the RoleMapping API is built from: the core and the API pipeline's settings. */
export interface RestApiOptions extends ApiCore, ApiPipelineOptions {
  /** Largest JSON body accepted (default 32 MiB: user lists can be long); larger ones get 413. */
  readonly bodyLimitBytes?: number;
}

/**
 * The REST form of the RoleMapping API as an express app, not listening: one route per RPC of the API's route
 * table, each served through the API pipeline, so that a request is authenticated before its body is read.
 * Throws when no authentication is configured unless `auth.insecure` is set.
 */
export function createRestApi(options: RestApiOptions): Express {
  requireApiAuth(options.auth, false, "REST");
  const pipeline = apiPipeline(options);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  for (const name of Object.keys(API_ROUTES) as RpcName[]) {
    const route: ApiRoute<RpcName> = API_ROUTES[name];
    const path = expressPath(route.rest.path);
    app[METHODS[route.rest.method]](path, restHandler(route, path, pipeline, options));
  }
  app.use(((_req, res) => void res.status(404).json("Not found")) satisfies RequestHandler);
  app.use(unreadableRequest(options));
  return app;
}

// One route: the request's fields under the RPC's names, through the pipeline, answered in the REST shapes.
function restHandler(route: ApiRoute<RpcName>, path: string, pipeline: ApiPipeline, options: RestApiOptions) {
  const rest = route.rest;
  const limit = options.bodyLimitBytes ?? DEFAULTS.admin.bodyLimitBytes;
  const handler: RequestHandler = (req, res) => {
    const business = async (caller: Caller) => {
      const body = rest.body ? requireFields(await readJsonBody(req, limit), rest.body) : {};
      const request = fromRestFields({ ...queryFields(req, rest), ...req.params, ...body });
      try {
        return await route.handle(options, request, caller);
      } catch (error) {
        // The previous provisioner treats a grant to a missing role as a bad request (400), not a 404.
        if (rest.missingRoleIsInvalid && error instanceof NotFoundError) {
          throw new InvalidArgumentError("role_id", error.message);
        }
        throw error;
      }
    };
    void pipeline(restCall(req, rest, path), business)
      .then((answered) => {
        if (!answered.ok) return sendRestFailure(res, answered.error, rest.notFound?.(stringParams(req)));
        res.status(rest.status ?? 200);
        if (rest.answer) res.json(rest.answer(answered.value));
        else res.end();
      })
      .catch((error: unknown) => unexpected(options, error, res));
  };
  return handler;
}

// What the pipeline needs to know of a REST request; metrics and the span name its route, never its ids.
function restCall(req: Request, rest: RestRoute<unknown>, path: string): ApiCall {
  const template = `${rest.method} ${path}`;
  return {
    transport: "rest",
    method: `${req.method} ${req.originalUrl.split("?")[0]}`,
    route: template,
    authorization: req.get("authorization"),
    certificateSubject: undefined,
    header: (name) => req.get(name),
    span: { name: template, attributes: { "http.request.method": req.method, "http.route": path } },
    status(outcome) {
      const status = outcome.ok ? (rest.status ?? 200) : toHttpStatus(outcome.error);
      return {
        logged: { status },
        label: String(status),
        spanAttributes: { "http.response.status_code": status },
        failed: status >= 500,
      };
    },
  };
}

/**
 * The fields of a JSON request body, after checking that it is an object holding every required field.
 * Throws InvalidArgumentError listing every missing field, so the caller fixes them all at once.
 */
function requireFields(body: unknown, fields: readonly string[]): Readonly<Record<string, unknown>> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidArgumentError("body", "expected a JSON object");
  }
  const record = body as Readonly<Record<string, unknown>>;
  const missing = fields.filter((field) => record[field] === undefined || record[field] === null);
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      missing.join(", "),
      `required field${missing.length > 1 ? "s" : ""} missing`,
    );
  }
  return record;
}

// The route's query parameters; an integer parameter whose value is all digits is given as a number.
function queryFields(req: Request, rest: RestRoute<unknown>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, type] of Object.entries(rest.query ?? {})) {
    const value: unknown = req.query[name];
    if (value === undefined) continue;
    fields[name] =
      type === "integer" && typeof value === "string" && /^-?\d{1,10}$/.test(value) ? Number(value) : value;
  }
  return fields;
}

function stringParams(req: Request): Record<string, string> {
  return Object.fromEntries(
    Object.entries(req.params).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

function expressPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ":$1");
}

const METHODS = { GET: "get", PUT: "put", POST: "post", DELETE: "delete" } as const;

// express's own failures caused by the request: a path parameter that is not valid percent-encoding.
function unreadableRequest(options: RestApiOptions): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const status = (error as { status?: unknown } | undefined)?.status;
    if (typeof status === "number" && status >= 400 && status < 500) {
      res.status(400).json({ errors: ["request unreadable: malformed path or body encoding"] });
    } else {
      unexpected(options, error, res);
    }
  };
}

// A failure outside any call's pipeline: logged with its details, answered 500 without them.
function unexpected(options: RestApiOptions, error: unknown, res: Response): void {
  options.logger.error(
    { event: "api_internal_error", transport: "rest", err: { message: String(error) } },
    "unexpected failure in a RoleMapping request",
  );
  if (res.headersSent) res.destroy();
  else sendRestFailure(res, error);
}
