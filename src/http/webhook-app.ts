import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { AuthorizationResult, Authorizer } from "../core/authorizer.js";
import type { AnswerHook, ShadowedCall } from "../shadow/shadow-mode.js";
import type { DecisionSink } from "../observability/decision-log.js";
import { sendHealth } from "./health-answers.js";
import { sendJson, sendSystemError } from "./json-response.js";
import { parseJsonBody, readRequestBody } from "./request-body.js";
import { routePath } from "./route-path.js";
import { ThrottledWarning } from "../observability/throttled-warning.js";
import { failureStatus, sender, sendFailure, sendResult, statusOf } from "./webhook-answers.js";
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

/** The webhook's request listener, which knows how many of its requests are still being answered. */
export type WebhookHandler = RequestListener & { inFlight(): number };

const AUTHENTICATE_PATH = "/v1/authenticate";
const MAX_HEADERS = 256;
const WARNING_INTERVAL_MS = 60_000;

/**
 * Hasura's authentication webhook (POST mode) and the health routes, as a request listener for node:http. The
 * webhook is on the path of every GraphQL request, and express's router, body-parser and res.json cost several
 * times what the decision does. Paths match as they did under express: in any case, with or without a trailing
 * slash, whatever the query string; GET routes answer HEAD; anything else is a JSON 404.
 */
export function createWebhookApp(options: WebhookAppOptions): WebhookHandler {
  const authenticate = authenticateHandler(options);
  const jwks = options.devJwks;
  let inFlight = 0;
  // "close" fires once per response (node guards it), after "finish" or on an aborted connection: a plain
  // listener, which once() would wrap and then remove on every request.
  const settled = (): void => {
    inFlight--;
  };
  const handler: RequestListener = (req, res) => {
    inFlight++;
    res.on("close", settled);
    try {
      // Hasura calls the URL it was configured with, exactly: the express-compatible matching is for the rest.
      const url = req.url;
      const path = url === AUTHENTICATE_PATH ? url : routePath(url);
      if (req.method === "POST" && path === AUTHENTICATE_PATH) {
        authenticate(req, res).catch(() => sendSystemError(res));
        return;
      }
      if (req.method === "GET" || req.method === "HEAD") {
        if (sendHealth(res, path, options.ready)) return;
        if (jwks && path === "/dev/jwks.json") return sendJson(res, 200, jwks());
      }
      sendJson(res, 404, "Not found");
    } catch {
      sendSystemError(res);
    }
  };
  return Object.assign(handler, { inFlight: () => inFlight });
}

/** POST /v1/authenticate: Hasura's content type is JSON, but any is parsed rather than denied as an empty body. */
function authenticateHandler(options: WebhookAppOptions) {
  const missingRequest = missingRequestWarning(options);
  const limits = { maxHeaders: MAX_HEADERS, maxBatch: options.maxBatch };
  const hook = options.answerHook;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let rawBody: Buffer | undefined;
    let json: unknown;
    try {
      const body = await readRequestBody(req, options.bodyLimitBytes);
      rawBody = body?.bytes;
      json = body === undefined ? undefined : parseJsonBody(body.text);
    } catch (error) {
      // A BodyError: 413 when too large, else 400, as any bad input; anything else 500.
      return sendFailure(res, error);
    }
    const started = performance.now();
    let input;
    try {
      input = parseWebhookBody(json, limits);
    } catch (error) {
      if (error instanceof MissingRequestError) missingRequest.record();
      if (!hook || !rawBody) return sendFailure(res, error);
      const call: ShadowedCall = {
        rawBody,
        requestId: undefined,
        result: undefined,
        reason: "bad_request",
        status: failureStatus(error),
      };
      return hook.answer(
        call,
        sender(res, () => sendFailure(res, error)),
      );
    }
    const requestId = input.headers.get("x-request-id");
    const recorded = (decided: AuthorizationResult): AuthorizationResult => {
      options.decisions.record({ requestId, latencyMs: performance.now() - started, result: decided });
      return decided;
    };
    // Without tracing, no function of its own around the decision: one promise less on every call.
    const result = options.traceDecision
      ? await options.traceDecision(input.headers, async () =>
          recorded(await options.authorizer.authorize(input)),
        )
      : recorded(await options.authorizer.authorize(input));
    if (!hook || !rawBody) return sendResult(res, result);
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
  };
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
