import type { handleUnaryCall, Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import type { CoreLogger } from "../core/identity.js";
import { authenticateCaller, type ApiAuth, type ApiCaller } from "../identity/api-credentials.js";
import { toGrpcStatus } from "./status.js";

/** What every RoleMapping call goes through: authentication, then the handler, then one audit log line. */
export interface UnaryContext {
  readonly auth: ApiAuth;
  /** True when the TLS layer verified a client certificate (mutual TLS): its subject then names the caller. */
  readonly clientCertificates: boolean;
  readonly logger: CoreLogger;
}

/** A call's business: the decoded request and the authenticated caller in, the response out. */
export type UnaryHandler<Req, Res> = (request: Req, caller: ApiCaller) => Promise<Res>;

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
      caller = await authenticateCaller(
        context.auth,
        firstValue(call.metadata, "authorization"),
        context.clientCertificates ? certificateSubject(call) : undefined,
      );
      return handler(call.request, caller);
    };
    run().then(
      (response) => {
        audit(context.logger, method, caller, status.OK, started);
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
        audit(context.logger, method, caller, failure.code, started);
        callback({ code: failure.code, details: failure.details });
      },
    );
  };
}

function audit(
  logger: CoreLogger,
  method: string,
  caller: ApiCaller | undefined,
  code: status,
  started: number,
): void {
  logger.info({
    event: "api_call",
    transport: "grpc",
    method,
    caller: caller?.name,
    auth: caller?.method,
    code: status[code],
    ms: Math.round((performance.now() - started) * 10) / 10,
  });
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
