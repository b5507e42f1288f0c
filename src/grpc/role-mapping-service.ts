import { apiPipeline, type ApiPipelineOptions } from "../api/pipeline.js";
import type { ApiCore, RequestOf, ResponseOf, RpcName } from "../api/route.js";
import { API_ROUTES } from "../api/routes.js";
import { RoleMappingServiceService, type RoleMappingServiceServer } from "./gen/rolemapper/v1/rolemapper.js";
import { unary } from "./unary.js";

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
