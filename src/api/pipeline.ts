import { isCoreError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";
import type { Caller } from "../core/write-audit.js";
import { authenticateCaller, type ApiAuth, type ApiCaller } from "../identity/api-credentials.js";

/** Span attributes, as OpenTelemetry takes them. */
export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** How a call ended, as a transport's status mapping takes it. */
export type CallOutcome = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

/** How a transport shows one outcome: in the api_call line, in its metric and on its span. */
export interface CallStatus {
  /** The api_call line's status field: `{ code: "NOT_FOUND" }` (gRPC) or `{ status: 404 }` (REST). */
  readonly logged: Readonly<Record<string, string | number>>;
  /** The metric's status label. */
  readonly label: string;
  readonly spanAttributes: SpanAttributes;
  /** Whether the span is marked as failed. */
  readonly failed: boolean;
}

/** What a transport hands the pipeline of one RoleMapping call. */
export interface ApiCall {
  readonly transport: "grpc" | "rest";
  /** As the api_call line names it: the RPC, or `<METHOD> <path>` as requested. */
  readonly method: string;
  /** As metrics count it: the RPC, or `<METHOD> <route template>`, never an id. */
  readonly route: string;
  /** The bearer credential as received (`Bearer …`). */
  readonly authorization: string | undefined;
  /** The subject of a client certificate the TLS layer verified (mutual TLS). */
  readonly certificateSubject: string | undefined;
  /** A header (gRPC: metadata entry) of the call, by lower-case name: the caller's trace context. */
  header(name: string): string | undefined;
  /** The call's server span. */
  readonly span: { readonly name: string; readonly attributes: SpanAttributes };
  /** The transport's one mapping of an outcome to its status. */
  status(outcome: CallOutcome): CallStatus;
}

/** Runs a call in a server span continuing the caller's trace, its status recorded on the span. */
export type ApiCallTracer = <T>(call: ApiCall, work: () => Promise<T>) => Promise<T>;

/** What the pipeline is built from. */
export interface ApiPipelineOptions {
  readonly auth: ApiAuth;
  readonly logger: CoreLogger;
  /** Told of each finished call (metrics): the call, its status and the seconds it took. */
  readonly onCall?: ((call: ApiCall, status: CallStatus, seconds: number) => void) | undefined;
  /** Runs each call in a span, when tracing. */
  readonly traceCall?: ApiCallTracer | undefined;
}

/** A call's answer: the handler's value, or what it failed with, and the status either is answered with. */
export type Answered<T> =
  | { readonly ok: true; readonly value: T; readonly status: CallStatus }
  | { readonly ok: false; readonly error: unknown; readonly status: CallStatus };

/** Runs one call's business through every step the RoleMapping API's calls share. */
export type ApiPipeline = <T>(call: ApiCall, handler: (caller: Caller) => Promise<T>) => Promise<Answered<T>>;

/**
 * The one pipeline of the RoleMapping API, for gRPC and REST alike: authenticate → caller → trace span →
 * handler → status mapping (the transport's) → metrics → one `api_call` audit line. It never rejects: a failure
 * is answered, and one the core did not raise on purpose is logged with its details, which the caller never sees.
 */
export function apiPipeline(options: ApiPipelineOptions): ApiPipeline {
  return async function run<T>(call: ApiCall, handler: (caller: Caller) => Promise<T>): Promise<Answered<T>> {
    const started = performance.now();
    let caller: ApiCaller | undefined;
    const work = async () => {
      caller = await authenticateCaller(options.auth, call.authorization, call.certificateSubject);
      return handler({ transport: call.transport, name: caller.name });
    };
    let answered: Answered<T>;
    try {
      const value = await (options.traceCall ? options.traceCall(call, work) : work());
      answered = { ok: true, value, status: call.status({ ok: true }) };
    } catch (error) {
      answered = { ok: false, error, status: call.status({ ok: false, error }) };
      if (!isCoreError(error)) logUnexpected(options.logger, call, error);
    }
    const seconds = (performance.now() - started) / 1000;
    options.logger.info({
      event: "api_call",
      transport: call.transport,
      method: call.method,
      caller: caller?.name,
      auth: caller?.method,
      ...answered.status.logged,
      ms: Math.round(seconds * 10_000) / 10,
    });
    options.onCall?.(call, answered.status, seconds);
    return answered;
  };
}

// The details of a failure nobody raised on purpose go to the log only.
function logUnexpected(logger: CoreLogger, call: ApiCall, error: unknown): void {
  const err =
    error instanceof Error ? { message: error.message, stack: error.stack } : { message: String(error) };
  logger.error(
    { event: "api_internal_error", transport: call.transport, method: call.method, err },
    "unexpected failure in a RoleMapping call",
  );
}
