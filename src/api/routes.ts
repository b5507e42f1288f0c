import type { Role as CoreRole } from "../core/mapping.js";
import type { Role } from "../grpc/gen/rolemapper/v1/rolemapper.js";
import { explainDecision } from "./explain.js";
import { toRestJson, type ApiRoutes } from "./route.js";

const roleNotFound = (params: Readonly<Record<string, string>>) =>
  `Role not found for role_id ${params.role_id}`;

/**
 * The RoleMapping API: every RPC of `rolemapper.v1.RoleMappingService` with its REST route, in one table from
 * which the gRPC service, the REST router and the OpenAPI document are all built. The previous service's routes
 * keep their paths and bodies (GET answers a role without its root fields; a grant to a missing role is 400).
 */
export const API_ROUTES: ApiRoutes = {
  upsertRole: {
    async handle({ service }, request, caller) {
      const role = await service.upsertRole(caller, {
        roleId: request.roleId,
        componentId: request.componentId,
        rootFields: request.graphqlRootFieldNames,
      });
      return { role: toRole(role) };
    },
    rest: {
      method: "PUT",
      path: "/v1/roles",
      body: ["role_id", "component_id", "graphql_root_field_names"],
      answer: (response) => toRestJson(response.role),
      doc: {
        summary:
          "Create or update a role; afterwards it maps exactly the listed root fields (400 on a role_id or " +
          "component_id clash, or a reserved role_id: admin and RESERVED_ROLE_IDS)",
        requestSchema: "GraphqlRootFieldNameRoleMappings",
        responseSchema: "GraphqlRootFieldNameRoleMappings",
      },
    },
  },
  getRole: {
    handle: async ({ service }, request) => ({ role: toRole(await service.getRole(request.roleId)) }),
    rest: {
      method: "GET",
      path: "/v1/roles/{role_id}",
      answer: (response) => roleWithoutFields(response.role),
      notFound: roleNotFound,
      doc: { summary: "Get a role by id", responseSchema: "Role" },
    },
  },
  getRoleByComponent: {
    handle: async ({ service }, request) => ({
      role: toRole(await service.getRoleByComponent(request.componentId)),
    }),
    rest: {
      method: "GET",
      path: "/v1/roles/component_id/{component_id}",
      answer: (response) => roleWithoutFields(response.role),
      notFound: (params) => `Role not found for component_id ${params.component_id}`,
      doc: { summary: "Get the role of a component", responseSchema: "Role" },
    },
  },
  deleteRole: {
    async handle({ service }, request, caller) {
      await service.deleteRole(caller, request.roleId);
      return {};
    },
    rest: {
      method: "DELETE",
      path: "/v1/roles/{role_id}",
      status: 204,
      notFound: roleNotFound,
      doc: { summary: "Delete a role and every user and group mapping of it" },
    },
  },
  setUserRoles: {
    async handle({ service }, request, caller) {
      const grants = await service.setUserRoles(caller, request.roleId, request.users);
      return { roleId: grants.roleId, users: [...grants.users] };
    },
    rest: {
      method: "PUT",
      path: "/v1/user_roles",
      body: ["role_id", "users"],
      answer: toRestJson,
      missingRoleIsInvalid: true,
      doc: {
        summary:
          "Replace the users holding a role: listed users are added, unlisted ones removed (400 when the role " +
          "does not exist or its id is reserved)",
        requestSchema: "UserRoleMappings",
        responseSchema: "UserRoleMappings",
      },
    },
  },
  setGroupRoles: {
    async handle({ service }, request, caller) {
      const grants = await service.setGroupRoles(caller, request.roleId, request.groups);
      return { roleId: grants.roleId, groups: [...grants.groups] };
    },
    rest: {
      method: "PUT",
      path: "/v1/group_roles",
      body: ["role_id", "groups"],
      answer: toRestJson,
      missingRoleIsInvalid: true,
      doc: {
        summary:
          "Replace the groups holding a role: listed groups are added, unlisted ones removed (400 when the role " +
          "does not exist or its id is reserved, or, where Entra display names are pinned, when a listed name is " +
          "held by no Entra group or by several: nothing is then written)",
        requestSchema: "GroupRoleMappings",
        responseSchema: "GroupRoleMappings",
      },
    },
  },
  getRoleGrants: {
    async handle({ service }, request) {
      const grants = await service.getRoleGrants(request.roleId);
      return { roleId: grants.roleId, users: [...grants.users], groups: [...grants.groups] };
    },
    rest: {
      method: "GET",
      path: "/v1/role_grants/{role_id}",
      answer: toRestJson,
      notFound: roleNotFound,
      doc: { summary: "The users and groups holding a role", responseSchema: "RoleGrants" },
    },
  },
  listRoles: {
    async handle({ service }, request) {
      const page = await service.listRoles(request.pageSize, request.pageToken);
      return { roles: page.roles.map(toRole), nextPageToken: page.nextPageToken };
    },
    rest: {
      method: "GET",
      path: "/v1/roles",
      query: { page_size: "integer", page_token: "string" },
      answer: toRestJson,
      doc: {
        summary:
          "Roles in role_id order, a page at a time (page_size: 1 to 1000, 100 when absent); next_page_token is " +
          "given back as page_token for the next page, and is empty on the last",
        responseSchema: "RolePage",
      },
    },
  },
  listSubjectRoles: {
    handle: async ({ service }, request) => ({ roleIds: await service.listSubjectRoles(request.subject) }),
    rest: {
      method: "GET",
      path: "/v1/subject_roles/{subject}",
      answer: toRestJson,
      doc: {
        summary: "The role ids a subject (user:… or group:…) holds directly, sorted",
        responseSchema: "SubjectRoles",
      },
    },
  },
  explainDecision: {
    handle: ({ authorizer }, request) => explainDecision(authorizer, request),
    rest: {
      method: "POST",
      path: "/v1/explain_decision",
      body: ["query"],
      answer: toRestJson,
      doc: {
        summary:
          "What the webhook would answer for a token, or for a user and groups, and why (changes nothing; " +
          "a token the webhook would refuse is answered allowed: false with its reason)",
        requestSchema: "ExplainDecisionRequest",
        responseSchema: "ExplainDecisionResponse",
      },
    },
  },
};

function toRole(role: CoreRole): Role {
  return { roleId: role.roleId, componentId: role.componentId, graphqlRootFieldNames: [...role.rootFields] };
}

// The previous service's GET routes answer the role without its root fields.
function roleWithoutFields(role: Role | undefined): object {
  return { role_id: role?.roleId, component_id: role?.componentId };
}
