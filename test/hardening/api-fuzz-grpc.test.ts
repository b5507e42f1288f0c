import { credentials, status, type ServiceError } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { COMPONENT_IDS, idFrom, nastyString, ROLE_IDS, subjectList } from "./support/api-values.js";
import { documentArbitrary, mutatedDocumentArbitrary } from "./support/documents.js";
import { readMapping } from "./support/oracle.js";
import { FC_SEED, runs } from "./support/runs.js";
import { startTestSidecar, type RunningSidecar } from "./support/sidecar.js";

const API_TOKEN = "hardening-grpc-token-0123456789";

let running: RunningSidecar;
let client: RoleMappingServiceClient;
let api: RoleMappingApi;
let strangers: RoleMappingApi[];
beforeAll(async () => {
  running = await startTestSidecar({ ROLEMAPPER_API_TOKENS: API_TOKEN });
  client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure());
  api = promiseApi(client, bearer(API_TOKEN));
  strangers = [undefined, "wrong-token-0123456789abcdef", `${API_TOKEN} `].map((token) =>
    promiseApi(client, bearer(token)),
  );
});
afterAll(async () => {
  client?.close();
  await running?.stop();
});

// What a refused call may answer: a known failure with a message, never UNKNOWN or INTERNAL.
const CLEAR_CODES = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.UNAUTHENTICATED,
]);

type Call = { name: string; write: boolean; run: (target: RoleMappingApi) => Promise<unknown> };

const int32 = fc.oneof(fc.integer({ min: -5, max: 1100 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const pageToken = fc.oneof(
  fc.constant(""),
  nastyString,
  fc.string().map((text) => Buffer.from(text).toString("base64url")),
  fc.jsonValue().map((value) => Buffer.from(JSON.stringify(value) ?? "").toString("base64url")),
);

const callArbitrary: fc.Arbitrary<Call> = fc.oneof(
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

describe("gRPC API fuzzing: random inputs into every RPC", () => {
  it("answers OK or a clear status with details, leaving the store exactly as it was on failure", async () => {
    const codes = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(callArbitrary, fc.nat({ max: 9 }), async (call, who) => {
        // One call in ten comes without valid credentials.
        const target = who === 0 ? (strangers[call.name.length % strangers.length] as RoleMappingApi) : api;
        const before = (await readMapping(running.sidecar.service)).fingerprint;
        let code: number = status.OK;
        try {
          await call.run(target);
        } catch (error) {
          const failure = error as ServiceError;
          code = failure.code;
          expect(CLEAR_CODES.has(code), `${call.name}: ${status[code]} ${failure.details}`).toBe(true);
          expect(failure.details.length).toBeGreaterThan(3);
        }
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (target !== api) expect(code).toBe(status.UNAUTHENTICATED);
        if (code !== status.OK || !call.write) {
          expect((await readMapping(running.sidecar.service)).fingerprint).toBe(before);
        }
      }),
      { numRuns: runs(0.12), seed: FC_SEED },
    );
    for (const code of [status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.UNAUTHENTICATED]) {
      expect(codes.get(code) ?? 0, status[code]).toBeGreaterThan(0);
    }
  });
});
