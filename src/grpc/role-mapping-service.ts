import type { handleUnaryCall, Metadata, ServerUnaryCall } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import {
  apiPipeline,
  type ApiCall,
  type ApiPipeline,
  type ApiPipelineOptions,
  type CallOutcome,
  type CallStatus,
} from "../api/pipeline.js";
import type { ApiCore, RequestOf, ResponseOf, RpcName } from "../api/route.js";
import { API_ROUTES } from "../api/routes.js";
import type { Caller } from "../core/write-audit.js";
import { RoleMappingServiceService, type RoleMappingServiceServer } from "./gen/rolemapper/v1/rolemapper.js";
import { ROLE_MAPPING_SERVICE_NAME } from "./service-name.js";
import { toGrpcStatus } from "./status.js";

/** What the RoleMapping service is built from: the core and the pipeline's settings. */
export interface RoleMappingHandlersOptions extends ApiCore, ApiPipelineOptions {
  /** True when the TLS layer verified a client certificate (mutual TLS): its subject then names the caller. */
  readonly clientCertificates: boolean;
}

/**
 * The grpc-js implementation of `rolemapper.v1.RoleMappingService`, built from the API's route table: every RPC
 * runs its table entry's handler through the API pipeline.
 */
export function roleMappingHandlers(options: RoleMappingHandlersOptions): RoleMappingServiceServer {
  const pipeline = apiPipeline(options);
  const handlerOf = <K extends RpcName>(name: K) => {
    const { path } = RoleMappingServiceService[name];
    const route = API_ROUTES[name];
    const rpc = path.slice(path.lastIndexOf("/") + 1);
    return unary<RequestOf<K>, ResponseOf<K>>(pipeline, rpc, options.clientCertificates, (request, caller) =>
      route.handle(options, request, caller),
    );
  };
  return {
    upsertRole: handlerOf("upsertRole"),
    getRole: handlerOf("getRole"),
    getRoleByComponent: handlerOf("getRoleByComponent"),
    deleteRole: handlerOf("deleteRole"),
    setUserRoles: handlerOf("setUserRoles"),
    setGroupRoles: handlerOf("setGroupRoles"),
    getRoleGrants: handlerOf("getRoleGrants"),
    listRoles: handlerOf("listRoles"),
    listSubjectRoles: handlerOf("listSubjectRoles"),
    explainDecision: handlerOf("explainDecision"),
  };
}

/** A call's business: the decoded request and the authenticated caller in, the response out. */
type UnaryHandler<Req, Res> = (request: Req, caller: Caller) => Promise<Res>;

/**
 * Serves one RPC through the API pipeline: the call's metadata and client certificate go in, the handler's
 * response or its failure, mapped once by toGrpcStatus, come out. `clientCertificates` is true when the TLS
 * layer verifies client certificates (mutual TLS): a verified certificate's subject then names the caller.
 */
function unary<Req, Res>(
  pipeline: ApiPipeline,
  rpc: string,
  clientCertificates: boolean,
  handler: UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const answered = pipeline(grpcCall(call, rpc, clientCertificates), (caller) =>
      handler(call.request, caller),
    );
    void answered.then((answer) => {
      if (answer.ok) return callback(null, answer.value);
      const failure = toGrpcStatus(answer.error);
      callback({ code: failure.code, details: failure.details });
    });
  };
}

// What the pipeline needs to know of a gRPC call.
function grpcCall(
  call: ServerUnaryCall<unknown, unknown>,
  rpc: string,
  clientCertificates: boolean,
): ApiCall {
  return {
    transport: "grpc",
    method: rpc,
    route: rpc,
    authorization: firstValue(call.metadata, "authorization"),
    certificateSubject: clientCertificates ? certificateSubject(call) : undefined,
    header: (name) => firstValue(call.metadata, name),
    span: {
      name: `${ROLE_MAPPING_SERVICE_NAME}/${rpc}`,
      attributes: { "rpc.system": "grpc", "rpc.service": ROLE_MAPPING_SERVICE_NAME, "rpc.method": rpc },
    },
    status: grpcStatus,
  };
}

function grpcStatus(outcome: CallOutcome): CallStatus {
  const code = outcome.ok ? status.OK : toGrpcStatus(outcome.error).code;
  return {
    logged: { code: status[code] },
    label: status[code],
    spanAttributes: { "rpc.grpc.status_code": code },
    failed: code !== status.OK,
  };
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
