/** The subset of OpenAPI 3.0 this document uses. */
interface OpenApiDocument {
  readonly openapi: "3.0.3";
  readonly info: { readonly title: string; readonly version: string; readonly description: string };
  readonly paths: Record<string, Record<string, object>>;
  readonly components: {
    readonly schemas: Record<string, object>;
    readonly securitySchemes: Record<string, object>;
  };
  readonly security: readonly Record<string, readonly string[]>[];
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ "application/json": { schema } });
const idString = { type: "string", minLength: 1, maxLength: 255 };
const idList = (example: string[]) => ({ type: "array", items: idString, uniqueItems: true, example });

const failures = {
  400: { description: "Invalid input", content: json(ref("ValidationError")) },
  401: {
    description: "Missing or unknown credentials",
    content: json({ type: "string", example: "Unauthorized" }),
  },
  413: { description: "Request body too large", content: json(ref("ValidationError")) },
  500: { description: "System problem", content: json(ref("SystemError")) },
  503: { description: "Role mapping store unavailable", content: json(ref("SystemError")) },
};

const notFound = (what: string) => ({
  description: `${what} not found`,
  content: json({ type: "string", example: "Role not found for role_id dom1.dp1.0.op.readrole" }),
});

const pathParam = (name: string, description: string) => ({
  name,
  in: "path",
  required: true,
  description,
  schema: idString,
});

const put = (summary: string, schema: string, extra: object = {}) => ({
  tags: ["RoleMapper"],
  summary,
  requestBody: { required: true, content: json(ref(schema)) },
  responses: { 200: { description: "As stored", content: json(ref(schema)) }, ...failures, ...extra },
});

/** The OpenAPI 3 description of the REST form of the RoleMapping API, served at `/v1/openapi.json`. */
export function openApiDocument(): OpenApiDocument {
  return {
    openapi: "3.0.3",
    info: {
      title: "Hasura Role Mapper: RoleMapping API",
      version: "1",
      description:
        "Roles, the GraphQL root fields each role may read, and the users and groups holding each role. " +
        "The same API is served over gRPC (rolemapper.v1.RoleMappingService).",
    },
    security: [{ bearer: [] }],
    paths: {
      "/v1/health": {
        get: {
          tags: ["Health"],
          summary: "Liveness",
          security: [],
          responses: { 200: { description: "Alive", content: json({ type: "string", example: "Alive" }) } },
        },
      },
      "/v1/roles": {
        put: put(
          "Create or update a role; afterwards it maps exactly the listed root fields (400 on a role_id or component_id " +
            "clash, or a reserved role_id: admin and RESERVED_ROLE_IDS)",
          "GraphqlRootFieldNameRoleMappings",
        ),
      },
      "/v1/roles/{role_id}": {
        get: {
          tags: ["RoleMapper"],
          summary: "Get a role by id",
          parameters: [pathParam("role_id", "Role id")],
          responses: {
            200: { description: "The role", content: json(ref("Role")) },
            404: notFound("Role"),
            ...failures,
          },
        },
        delete: {
          tags: ["RoleMapper"],
          summary: "Delete a role and every user and group mapping of it",
          parameters: [pathParam("role_id", "Role id")],
          responses: { 204: { description: "Deleted" }, 404: notFound("Role"), ...failures },
        },
      },
      "/v1/roles/component_id/{component_id}": {
        get: {
          tags: ["RoleMapper"],
          summary: "Get the role of a component",
          parameters: [pathParam("component_id", "Component id")],
          responses: {
            200: { description: "The role", content: json(ref("Role")) },
            404: notFound("Role"),
            ...failures,
          },
        },
      },
      "/v1/user_roles": {
        put: put(
          "Replace the users holding a role: listed users are added, unlisted ones removed (400 when the role does not " +
            "exist or its id is reserved)",
          "UserRoleMappings",
        ),
      },
      "/v1/group_roles": {
        put: put(
          "Replace the groups holding a role: listed groups are added, unlisted ones removed (400 when the role does not " +
            "exist or its id is reserved, or, where Entra display names are pinned, when a listed name is held by no " +
            "Entra group or by several: nothing is then written)",
          "GroupRoleMappings",
        ),
      },
      "/v1/openapi.json": {
        get: {
          tags: ["Meta"],
          summary: "This document",
          security: [],
          responses: { 200: { description: "OpenAPI 3 document", content: json({ type: "object" }) } },
        },
      },
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        Role: {
          type: "object",
          required: ["role_id", "component_id"],
          properties: {
            role_id: { ...idString, example: "dom1.dp1.0.op.readrole" },
            component_id: { ...idString, example: "urn:dmb:cmp:dom1:dp1:0:op" },
          },
        },
        GraphqlRootFieldNameRoleMappings: {
          type: "object",
          required: ["role_id", "component_id", "graphql_root_field_names"],
          properties: {
            role_id: { ...idString, example: "dom1.dp1.0.op.readrole" },
            component_id: { ...idString, example: "urn:dmb:cmp:dom1:dp1:0:op" },
            graphql_root_field_names: idList(["dom1_dp1_0_op1_select", "dom1_dp1_0_op1_aggregate"]),
          },
        },
        UserRoleMappings: {
          type: "object",
          required: ["role_id", "users"],
          properties: { role_id: idString, users: idList(["user:user1", "user:user2"]) },
        },
        GroupRoleMappings: {
          type: "object",
          required: ["role_id", "groups"],
          properties: { role_id: idString, groups: idList(["group:group1", "group:group2"]) },
        },
        ValidationError: {
          type: "object",
          required: ["errors"],
          properties: { errors: { type: "array", items: { type: "string" } } },
        },
        SystemError: { type: "object", required: ["error"], properties: { error: { type: "string" } } },
      },
    },
  };
}
