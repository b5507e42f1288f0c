import type { ApiRoute, RestRoute, RpcName } from "../api/route.js";
import { API_ROUTES } from "../api/routes.js";

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
const strings = { type: "array", items: { type: "string" } };
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

const parameter = (name: string, where: "path" | "query", type: "string" | "integer") => ({
  name,
  in: where,
  required: where === "path",
  schema: type === "integer" ? { type: "integer" } : where === "path" ? idString : { type: "string" },
});

/** The request and answer bodies the routes name (RouteDoc). */
const SCHEMAS: Record<string, object> = {
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
  RoleGrants: {
    type: "object",
    required: ["role_id", "users", "groups"],
    properties: { role_id: idString, users: idList(["user:user1"]), groups: idList(["group:group1"]) },
  },
  RolePage: {
    type: "object",
    required: ["roles", "next_page_token"],
    properties: {
      roles: { type: "array", items: ref("GraphqlRootFieldNameRoleMappings") },
      next_page_token: { type: "string", description: "Empty on the last page" },
    },
  },
  SubjectRoles: {
    type: "object",
    required: ["role_ids"],
    properties: { role_ids: idList(["dom1.dp1.0.op.readrole"]) },
  },
  ExplainDecisionRequest: {
    type: "object",
    required: ["query"],
    properties: {
      token: {
        type: "string",
        description: "A data consumer's bearer token; when set, user and groups are ignored",
      },
      user: { ...idString, example: "user:alice_corp.com" },
      groups: idList(["group:analysts"]),
      query: { type: "string", example: "{ sales_orders { id } }" },
      operation_name: { type: "string" },
      requested_role: {
        type: "string",
        description: "The role the client would ask for in X-Hasura-Role",
      },
    },
  },
  ExplainDecisionResponse: {
    type: "object",
    properties: {
      allowed: { type: "boolean" },
      role: { type: "string" },
      reason: { type: "string", example: "allowed" },
      user: { type: "string" },
      groups: strings,
      root_fields: strings,
      held_roles: strings,
      candidate_roles: strings,
      reserved_roles: strings,
      group_pins: { type: "array", items: ref("GroupPinCheck") },
      covering_roles: strings,
      combined_role: { type: "string" },
    },
  },
  GroupPinCheck: {
    type: "object",
    properties: {
      object_id: { type: "string" },
      name: { type: "string" },
      pinned_object_id: { type: "string" },
      matched: { type: "boolean" },
      counts_as: strings,
    },
  },
  ValidationError: {
    type: "object",
    required: ["errors"],
    properties: { errors: { type: "array", items: { type: "string" } } },
  },
  SystemError: { type: "object", required: ["error"], properties: { error: { type: "string" } } },
};

// One operation of the document, from the route table's REST entry.
function operation(rest: RestRoute<unknown>): object {
  const params = [...rest.path.matchAll(/\{(\w+)\}/g)].map((match) =>
    parameter(match[1] ?? "", "path", "string"),
  );
  const query = Object.entries(rest.query ?? {}).map(([name, type]) => parameter(name, "query", type));
  const status = rest.status ?? 200;
  const answer = rest.doc.responseSchema
    ? { description: "OK", content: json(ref(rest.doc.responseSchema)) }
    : { description: status === 204 ? "Done" : "OK" };
  return {
    tags: [rest.doc.tag ?? "RoleMapper"],
    summary: rest.doc.summary,
    ...(params.length + query.length > 0 ? { parameters: [...params, ...query] } : {}),
    ...(rest.doc.requestSchema
      ? { requestBody: { required: true, content: json(ref(rest.doc.requestSchema)) } }
      : {}),
    responses: {
      [status]: answer,
      ...(rest.notFound ? { 404: notFound("Role") } : {}),
      ...failures,
    },
  };
}

// The document's paths: every route of the table, and the two the admin listener answers without credentials.
function paths(): Record<string, Record<string, object>> {
  const byPath: Record<string, Record<string, object>> = {
    "/v1/health": {
      get: {
        tags: ["Health"],
        summary: "Liveness",
        security: [],
        responses: { 200: { description: "Alive", content: json({ type: "string", example: "Alive" }) } },
      },
    },
    "/v1/openapi.json": {
      get: {
        tags: ["Meta"],
        summary: "This document",
        security: [],
        responses: { 200: { description: "OpenAPI 3 document", content: json({ type: "object" }) } },
      },
    },
  };
  for (const route of Object.values(API_ROUTES) as ApiRoute<RpcName>[]) {
    const rest = route.rest;
    byPath[rest.path] = { ...byPath[rest.path], [rest.method.toLowerCase()]: operation(rest) };
  }
  return byPath;
}

/**
 * The OpenAPI 3 description of the REST form of the RoleMapping API, served at `/v1/openapi.json`: its paths are
 * those of the API's route table, so the document cannot differ from what is served.
 */
export function openApiDocument(): OpenApiDocument {
  return {
    openapi: "3.0.3",
    info: {
      title: "Hasura Role Mapper: RoleMapping API",
      version: "1",
      description:
        "Roles, the GraphQL root fields each role may read, and the users and groups holding each role. " +
        "The same API is served over gRPC (rolemapper.v1.RoleMappingService), one route per RPC.",
    },
    security: [{ bearer: [] }],
    paths: paths(),
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: SCHEMAS,
    },
  };
}
