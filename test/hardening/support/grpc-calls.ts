import { status } from "@grpc/grpc-js";
import fc from "fast-check";
import type { RoleMappingApi } from "../../grpc/client.js";
import { COMPONENT_IDS, idFrom, nastyString, ROLE_IDS, subjectList } from "./api-values.js";
import { documentArbitrary, mutatedDocumentArbitrary } from "./documents.js";

/** What a refused call may answer: a known failure with a message, never UNKNOWN or INTERNAL. */
export const CLEAR_CODES = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.UNAUTHENTICATED,
]);

/** One generated RPC: its name, whether it writes, and how to send it. */
export type GrpcCall = { name: string; write: boolean; run: (target: RoleMappingApi) => Promise<unknown> };

const int32 = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const pageToken = fc.oneof(
  fc.constant(""),
  nastyString,
  fc.string().map((text) => Buffer.from(text).toString("base64url")),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? "").toString("base64url")),
);

/** Calls of every RPC with fields drawn from the shared pools, nasty strings and out-of-range numbers. */
export const grpcCallArbitrary: fc.Arbitrary<GrpcCall> = fc.oneof(
  fc
    .record({
      roleId: idFrom(ROLE_IDS),
      componentId: idFrom(COMPONENT_IDS),
      graphqlRootFieldNames: fc.array(idFrom(["orders", "customers"]), { maxLength: 4 }),
    })
    .map((r) => ({ name: "UpsertRole", write: true, run: (t: RoleMappingApi) => t.upsertRole(r) })),
  fc
    .record({ roleId: idFrom(ROLE_IDS), users: subjectList("user:") })
    .map((r) => ({ name: "SetUserRoles", write: true, run: (t: RoleMappingApi) => t.setUserRoles(r) })),
  fc
    .record({ roleId: idFrom(ROLE_IDS), groups: subjectList("group:") })
    .map((r) => ({ name: "SetGroupRoles", write: true, run: (t: RoleMappingApi) => t.setGroupRoles(r) })),
  idFrom(ROLE_IDS).map((roleId) => ({
    name: "DeleteRole",
    write: true,
    run: (t: RoleMappingApi) => t.deleteRole({ roleId }),
  })),
  idFrom(ROLE_IDS).map((roleId) => ({
    name: "GetRole",
    write: false,
    run: (t: RoleMappingApi) => t.getRole({ roleId }),
  })),
  idFrom(COMPONENT_IDS).map((componentId) => ({
    name: "GetRoleByComponent",
    write: false,
    run: (t: RoleMappingApi) => t.getRoleByComponent({ componentId }),
  })),
  idFrom(ROLE_IDS).map((roleId) => ({
    name: "GetRoleGrants",
    write: false,
    run: (t: RoleMappingApi) => t.getRoleGrants({ roleId }),
  })),
  fc.record({ pageSize: int32, pageToken }).map((r) => ({
    name: "ListRoles",
    write: false,
    run: (t: RoleMappingApi) => t.listRoles(r),
  })),
  fc.oneof(idFrom(["user:a", "group:b", "role-a"]), nastyString).map((subject) => ({
    name: "ListSubjectRoles",
    write: false,
    run: (t: RoleMappingApi) => t.listSubjectRoles({ subject }),
  })),
  fc
    .record({
      token: fc.oneof(fc.constant(""), nastyString, fc.constant("eyJhbGciOiJub25lIn0.e30.")),
      user: fc.oneof(fc.constant(""), fc.constant("user:a"), nastyString),
      groups: subjectList("group:"),
      query: fc.oneof(documentArbitrary, mutatedDocumentArbitrary, nastyString),
      operationName: fc.oneof(fc.constant(""), fc.constantFrom("A", "B", "Q"), nastyString),
      requestedRole: fc.oneof(fc.constant(""), idFrom(ROLE_IDS)),
    })
    .map((r) => ({
      name: "ExplainDecision",
      write: false,
      run: (t: RoleMappingApi) => t.explainDecision(r),
    })),
);
