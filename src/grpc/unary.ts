import type { handleUnaryCall, Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { CoreLogger } from "../core/identity.js";
import type { GrpcCallTracer } from "../observability/api-tracing.js";
import { traceHeaders } from "../observability/trace-headers.js";
import { authenticateCaller, type ApiAuth, type ApiCaller } from "../identity/api-credentials.js";
import type { Caller } from "../core/write-audit.js";
import { toGrpcStatus } from "./status.js";

/** What every RoleMapping call goes through: authentication, then the handler, then one audit log line. */
export interface UnaryContext {
  readonly auth: ApiAuth;
  /** True when the TLS layer verified a client certificate (mutual TLS): its subject then names the caller. */
  readonly clientCertificates: boolean;
  readonly logger: CoreLogger;
  /** Told of every finished call: method, status code name (e.g. "OK") and seconds taken (for metrics). */
  readonly onCall?: ((method: string, code: string, seconds: number) => void) | undefined;
  /** Runs each call in a span, when tracing. */
  readonly traceCall?: GrpcCallTracer | undefined;
}

/** A call's business: the decoded request and the authenticated caller in, the response out. */
export type UnaryHandler<Req, Res> = (request: Req, caller: Caller) => Promise<Res>;

/**
 * Wraps a handler as a grpc-js unary handler: authenticates the caller, maps failures with toGrpcStatus and
 * logs the method, the caller's name and the outcome — never the request, which may carry a token.
 */
export function unary<Req, Res>(
  context: UnaryContext,
  method: string,
  handler: UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    let caller: ApiCaller | undefined;
    const run = async (): Promise<Res> => {
      const authenticated = await authenticateCaller(
        context.auth,
        firstValue(call.metadata, "authorization"),
        context.clientCertificates ? certificateSubject(call) : undefined,
      );
      caller = authenticated;
      return handler(call.request, { transport: "grpc", name: authenticated.name });
    };
    const traced = context.traceCall
      ? context.traceCall(
          method,
          traceHeaders((name) => firstValue(call.metadata, name)),
          run,
          (error) => toGrpcStatus(error).code,
        )
      : run();
    traced.then(
      (response) => {
        audit(context, method, caller, status.OK, started);
        callback(null, response);
      },
      (error: unknown) => {
        const failure = toGrpcStatus(error);
        if (failure.code === status.UNKNOWN) {
          context.logger.error(
            { event: "api_internal_error", transport: "grpc", method, err: describe(error) },
            "unexpected failure in a RoleMapping call",
          );
        }
        audit(context, method, caller, failure.code, started);
        callback({ code: failure.code, details: failure.details });
      },
    );
  };
}

function audit(
  context: UnaryContext,
  method: string,
  caller: ApiCaller | undefined,
  code: status,
  started: number,
): void {
  const elapsedMs = performance.now() - started;
  context.logger.info({
    event: "api_call",
    transport: "grpc",
    method,
    caller: caller?.name,
    auth: caller?.method,
    code: status[code],
    ms: Math.round(elapsedMs * 10) / 10,
  });
  context.onCall?.(method, status[code], elapsedMs / 1000);
}

function firstValue(metadata: Metadata, key: string): string | undefined {
  const [value] = metadata.get(key);
  return typeof value === "string" ? value : undefined;
}

// The TLS layer has already verified the certificate against the client CA; this only names the caller.
function certificateSubject(call: ServerUnaryCall<unknown, unknown>): string | undefined {
  const certificate = call.getAuthContext().sslPeerCertificate;
  const commonName = certificate?.subject?.CN;
  if (typeof commonName === "string" && commonName !== "") return `cn:${commonName}`;
  return certificate?.fingerprint256 ? `sha256:${certificate.fingerprint256}` : undefined;
}

function describe(error: unknown): { message: string; stack?: string | undefined } {
  if (error instanceof Error) return { message: error.message, stack: error.stack };
  return { message: String(error) };
}
