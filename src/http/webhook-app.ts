import express, { type ErrorRequestHandler, type Express } from "express";
import type { Logger } from "pino";
import type { AuthorizationResult, Authorizer } from "../core/authorizer.js";
import type { AnswerHook, ShadowedCall } from "../shadow/shadow-mode.js";
import type { DecisionSink } from "./decision-log.js";
import { healthRoutes } from "./health-routes.js";
import { httpDate } from "./http-date.js";
import { notFound } from "./not-found.js";
import { toHttpStatus } from "./status.js";
import { ThrottledWarning } from "./throttled-warning.js";
import { MissingRequestError, parseWebhookBody, SEND_REQUEST_BODY_VARIABLE } from "./webhook-body.js";

/** What the webhook listener is built from. */
export interface WebhookAppOptions {
  readonly authorizer: Authorizer;
  readonly decisions: DecisionSink;
  /** Runs each decision, its audit line included, in a span continuing the trace in the client's headers. */
  readonly traceDecision?: (
    headers: ReadonlyMap<string, string>,
    decide: () => Promise<AuthorizationResult>,
  ) => Promise<AuthorizationResult>;
  readonly ready: () => boolean;
  readonly bodyLimitBytes: number;
  readonly maxBatch: number;
  /** Development mode only: the local issuer's public keys, served at /dev/jwks.json. */
  readonly devJwks?: () => object;
  /** Where warnings about Hasura's configuration go (decisions go to `decisions`). */
  readonly logger: Pick<Logger, "warn">;
  /** The time in milliseconds, for throttling warnings; Date.now by default. */
  readonly now?: () => number;
  /** Shadow mode: gets each answer before it is sent, with the body as received, and sends it (or another). */
  readonly answerHook?: AnswerHook;
}

/** Where the JSON parser leaves the body's bytes, when shadow mode wants them. */
const RAW_BODY = Symbol("rawBody");
type WithRawBody = express.Request & { [RAW_BODY]?: Buffer };

const MAX_HEADERS = 256;
const WARNING_INTERVAL_MS = 60_000;

/** Hasura's authentication webhook (POST mode) and the health routes, as an express app not yet listening. */
export function createWebhookApp(options: WebhookAppOptions): Express {
  const missingRequest = missingRequestWarning(options);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use(healthRoutes(options.ready));
  if (options.devJwks) {
    const jwks = options.devJwks;
    app.get("/dev/jwks.json", (_req, res) => {
      res.json(jwks());
    });
  }
  // Hasura's content type is JSON; any other is parsed too rather than denied as an empty body.
  app.post(
    "/v1/authenticate",
    express.json({
      limit: options.bodyLimitBytes,
      type: () => true,
      strict: true,
      ...(options.answerHook
        ? { verify: (req: WithRawBody, _res: unknown, raw: Buffer) => void (req[RAW_BODY] = raw) }
        : {}),
    }),
    async (req: WithRawBody, res) => {
      const started = performance.now();
      const hook = options.answerHook;
      const rawBody = req[RAW_BODY];
      let input;
      try {
        input = parseWebhookBody(req.body, { maxHeaders: MAX_HEADERS, maxBatch: options.maxBatch });
      } catch (error) {
        if (error instanceof MissingRequestError) missingRequest.record();
        if (!hook || !rawBody) return sendFailure(res, error);
        const call = { rawBody, requestId: undefined, result: undefined, reason: "bad_request" };
        return hook.answer(
          { ...call, status: failureStatus(error) },
          sender(res, () => sendFailure(res, error)),
        );
      }
      const decide = async (): Promise<AuthorizationResult> => {
        const decided = await options.authorizer.authorize(input);
        options.decisions.record({
          requestId: input.headers.get("x-request-id"),
          latencyMs: performance.now() - started,
          result: decided,
        });
        return decided;
      };
      const result = await (options.traceDecision ? options.traceDecision(input.headers, decide) : decide());
      if (hook && rawBody) {
        const requestId = input.headers.get("x-request-id");
        const call: ShadowedCall = {
          rawBody,
          requestId,
          result,
          reason: result.reason,
          status: statusOf(result),
        };
        hook.answer(
          call,
          sender(res, () => sendResult(res, result)),
        );
      } else {
        sendResult(res, result);
      }
    },
  );
  app.use(notFound);
  app.use(bodyErrors);
  return app;
}

/** The status sendResult answers `result` with. */
function statusOf(result: AuthorizationResult): number {
  if (result.outcome === "allow") return 200;
  return result.outcome === "deny" ? 401 : failureStatus(result.error);
}

// The shadow mode sends this side's answer, or the previous service's bytes as received.
function sender(res: express.Response, self: () => void) {
  return {
    self,
    relay(status: number, contentType: string | undefined, body: Buffer) {
      if (contentType !== undefined) res.type(contentType);
      res.status(status).send(body);
    },
  };
}

function sendResult(res: express.Response, result: AuthorizationResult): void {
  if (result.outcome === "allow") {
    res.json(allowed(result));
  } else if (result.outcome === "deny") {
    res.status(401).json("Unauthorized");
  } else {
    sendFailure(res, result.error);
  }
}

// Every call fails alike until Hasura's setting is changed: one line a minute says so without flooding the log.
function missingRequestWarning(options: WebhookAppOptions): ThrottledWarning {
  return new ThrottledWarning(
    (fields, message) => options.logger.warn(fields, message),
    "request_body_missing",
    `Hasura sent no request to decide on: set ${SEND_REQUEST_BODY_VARIABLE}=true on the Hasura container; ` +
      "every such call is answered 400",
    WARNING_INTERVAL_MS,
    options.now,
  );
}

/**
 * The 200 body: the session variables and, for a websocket's connection_init only, `Expires` — the key Hasura
 * reads to end the websocket's session. Ordinary requests carry no expiry: Hasura's enterprise edition would cache
 * the answer until then, and a revoked grant would wait for the cache.
 */
function allowed(result: AuthorizationResult): Record<string, string | undefined> {
  const body = { "X-Hasura-User-Id": result.user, "X-Hasura-Role": result.role };
  if (result.sessionEndsAt === undefined) return body;
  return { ...body, Expires: httpDate(result.sessionEndsAt) };
}

/** Hasura's contract: 400 with errors for a bad request, 401 denies, anything else fails the client request. */
function sendFailure(res: express.Response, error: unknown): void {
  const status = failureStatus(error);
  if (status === 400 || status === 413) {
    res.status(status).json({ errors: [error instanceof Error ? error.message : String(error)] });
  } else if (status === 401) {
    res.status(401).json("Unauthorized");
  } else {
    res.status(500).json({ error: "System error" });
  }
}

function failureStatus(error: unknown): 400 | 401 | 413 | 500 {
  const status = toHttpStatus(error);
  return status === 400 || status === 401 || status === 413 ? status : 500;
}

// body-parser's own failures: a body too large, not JSON, in an unsupported encoding or charset, or a
// compressed body that does not inflate (zlib's error, marked by body-parser as a 400 it may expose).
const bodyErrors: ErrorRequestHandler = (error, _req, res, _next) => {
  const { type, status, expose } = error as { type?: unknown; status?: unknown; expose?: unknown };
  if (type === "entity.too.large") res.status(413).json({ errors: ["request body too large"] });
  else if (type === "entity.parse.failed")
    res.status(400).json({ errors: ["request body is not valid JSON"] });
  else if (typeof type === "string" && (type.startsWith("encoding.") || type === "charset.unsupported"))
    res.status(400).json({ errors: ["unsupported body encoding"] });
  else if (expose === true && typeof status === "number" && status >= 400 && status < 500)
    res.status(400).json({ errors: ["request body cannot be decoded"] });
  else res.status(500).json({ error: "System error" });
};
