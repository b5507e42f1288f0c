import type { Authorizer, Explanation } from "../core/authorizer.js";
import { UnauthenticatedError } from "../core/errors.js";
import type { Role as CoreRole } from "../core/mapping.js";
import type { MappingService } from "../core/mapping-service.js";
import type {
  ExplainDecisionRequest,
  ExplainDecisionResponse,
  Role,
  RoleMappingServiceServer,
} from "./gen/rolemapper/v1/rolemapper.js";
import { unary, type UnaryContext } from "./unary.js";

/** What the RoleMapping service is built from. */
export interface RoleMappingHandlersOptions extends UnaryContext {
  readonly service: MappingService;
  readonly authorizer: Authorizer;
}

/** The grpc-js implementation of `rolemapper.v1.RoleMappingService`: each RPC translates to one core call. */
export function roleMappingHandlers(options: RoleMappingHandlersOptions): RoleMappingServiceServer {
  const { service, authorizer } = options;
  return {
    upsertRole: unary(options, "UpsertRole", async (request, caller) => {
      const role = await service.upsertRole(caller, {
        roleId: request.roleId,
        componentId: request.componentId,
        rootFields: request.graphqlRootFieldNames,
      });
      return { role: toRole(role) };
    }),
    getRole: unary(options, "GetRole", async (request) => ({
      role: toRole(await service.getRole(request.roleId)),
    })),
    getRoleByComponent: unary(options, "GetRoleByComponent", async (request) => ({
      role: toRole(await service.getRoleByComponent(request.componentId)),
    })),
    deleteRole: unary(options, "DeleteRole", async (request, caller) => {
      await service.deleteRole(caller, request.roleId);
      return {};
    }),
    setUserRoles: unary(options, "SetUserRoles", async (request, caller) => {
      const grants = await service.setUserRoles(caller, request.roleId, request.users);
      return { roleId: grants.roleId, users: [...grants.users] };
    }),
    setGroupRoles: unary(options, "SetGroupRoles", async (request, caller) => {
      const grants = await service.setGroupRoles(caller, request.roleId, request.groups);
      return { roleId: grants.roleId, groups: [...grants.groups] };
    }),
    getRoleGrants: unary(options, "GetRoleGrants", async (request) => {
      const grants = await service.getRoleGrants(request.roleId);
      return { roleId: grants.roleId, users: [...grants.users], groups: [...grants.groups] };
    }),
    listRoles: unary(options, "ListRoles", async (request) => {
      const page = await service.listRoles(request.pageSize, request.pageToken);
      return { roles: page.roles.map(toRole), nextPageToken: page.nextPageToken };
    }),
    listSubjectRoles: unary(options, "ListSubjectRoles", async (request) => ({
      roleIds: await service.listSubjectRoles(request.subject),
    })),
    explainDecision: unary(options, "ExplainDecision", (request) => explain(authorizer, request)),
  };
}

function toRole(role: CoreRole): Role {
  return { roleId: role.roleId, componentId: role.componentId, graphqlRootFieldNames: [...role.rootFields] };
}

async function explain(
  authorizer: Authorizer,
  request: ExplainDecisionRequest,
): Promise<ExplainDecisionResponse> {
  const tokenGiven = request.token !== "";
  let explanation: Explanation;
  try {
    explanation = await authorizer.explain({
      token: tokenGiven ? request.token : undefined,
      user: request.user || undefined,
      groups: request.groups,
      query: request.query,
      operationName: request.operationName || undefined,
      requestedRole: request.requestedRole || undefined,
    });
  } catch (error) {
    // A token the webhook would refuse is an answer ("denied, because…"), not a failure of this call.
    if (tokenGiven && error instanceof UnauthenticatedError) return denied(error.reason);
    throw error;
  }
  return {
    allowed: explanation.allowed,
    role: explanation.role ?? "",
    reason: explanation.reason,
    user: explanation.user,
    groups: [...explanation.groups],
    rootFields: [...explanation.rootFields],
    heldRoles: [...explanation.heldRoles],
    candidateRoles: [...explanation.candidateRoles],
    reservedRoles: [...explanation.reservedRoles],
    coveringRoles: [...(explanation.coveringRoles ?? [])],
    combinedRole: explanation.combinedRole ?? "",
    groupPins: explanation.groupPins.map((check) => ({
      objectId: check.objectId,
      name: check.name ?? "",
      pinnedObjectId: check.pinnedObjectId ?? "",
      matched: check.matched,
      countsAs: [...check.countsAs],
    })),
  };
}

function denied(reason: string): ExplainDecisionResponse {
  return {
    allowed: false,
    role: "",
    reason,
    user: "",
    groups: [],
    rootFields: [],
    heldRoles: [],
    candidateRoles: [],
    reservedRoles: [],
    groupPins: [],
    coveringRoles: [],
    combinedRole: "",
  };
}
