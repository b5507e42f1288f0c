import type { Authorizer } from "../core/authorizer.js";
import type { MappingService } from "../core/mapping-service.js";
import type { Caller } from "../core/write-audit.js";
import type { RoleMappingServiceService } from "../grpc/gen/rolemapper/v1/rolemapper.js";

/** The RPCs of `rolemapper.v1.RoleMappingService`, by the generated code's names (`upsertRole`, …). */
export type RpcName = keyof RoleMappingServiceService;
/** An RPC's request message, as the generated code decodes it. */
export type RequestOf<K extends RpcName> = ReturnType<RoleMappingServiceService[K]["requestDeserialize"]>;
/** An RPC's response message. */
export type ResponseOf<K extends RpcName> = ReturnType<RoleMappingServiceService[K]["responseDeserialize"]>;

/**
 * Every field of a request as any transport may have decoded it: gRPC's are typed, REST's are whatever JSON held.
 * The handlers pass them to the core, which validates each one and names the field at fault.
 */
export type Loose<T> = { readonly [K in keyof T]?: unknown };

/** What the RoleMapping API's handlers call. */
export interface ApiCore {
  readonly service: MappingService;
  readonly authorizer: Authorizer;
}

/** An HTTP method a REST route answers. */
export type HttpMethod = "GET" | "PUT" | "POST" | "DELETE";

/** The REST form of one RPC. */
export interface RestRoute<Res> {
  readonly method: HttpMethod;
  /** The path, with `{name}` for each path parameter (OpenAPI's form). */
  readonly path: string;
  /** A JSON body is read, and must be an object holding these fields (the previous service's check). */
  readonly body?: readonly string[];
  /** Query parameters and their types: an integer's digits are given to the core as a number. */
  readonly query?: Readonly<Record<string, "string" | "integer">>;
  /** The status of a success (default 200). */
  readonly status?: 200 | 204;
  /** The JSON body of a success; none (204) when absent. */
  answer?(response: Res): unknown;
  /** The previous service's wording of a 404, where it had one. */
  notFound?(params: Readonly<Record<string, string>>): string;
  /** The previous provisioner expects a grant to a missing role as a bad request (400), not a 404. */
  readonly missingRoleIsInvalid?: boolean;
  /** For the OpenAPI document. */
  readonly doc: RouteDoc;
}

/** What the OpenAPI document says of a route, beyond what the table itself shows. */
export interface RouteDoc {
  readonly summary: string;
  /** Schema names (components.schemas) of the request body and the 200 answer. */
  readonly requestSchema?: string;
  readonly responseSchema?: string;
  readonly tag?: string;
}

/** One RPC and its REST route: what both transports serve, from one table. */
export interface ApiRoute<K extends RpcName> {
  /** The call's business, through the core: the decoded request and the authenticated caller in. */
  handle(core: ApiCore, request: Loose<RequestOf<K>>, caller: Caller): Promise<ResponseOf<K>>;
  readonly rest: RestRoute<ResponseOf<K>>;
}

/** Every RPC of the service with its REST route: a missing RPC is a compile error. */
export type ApiRoutes = { readonly [K in RpcName]: ApiRoute<K> };

/** A message in the JSON of the REST API: proto field names (snake_case), as the previous service spelt them. */
export function toRestJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toRestJson);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`),
      toRestJson(field),
    ]),
  );
}

/** A REST request's fields (path parameters, query, body) under the request message's names (camelCase). */
export function fromRestFields(fields: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  // Object.fromEntries defines own properties: a `__proto__` key in a body stays a plain field.
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()),
      value,
    ]),
  );
}
