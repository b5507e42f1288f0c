import { credentials, status, type ServiceError } from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { CLEAR_CODES, grpcCallArbitrary } from "./support/grpc-calls.js";
import { send, type HttpAnswer } from "./support/http.js";
import { readMapping } from "./support/oracle.js";
import { restCallArbitrary, type RestCall } from "./support/rest-calls.js";
import { FC_SEED, fuzzTimeout, runs } from "./support/runs.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

const API_TOKEN = "hardening-api-fuzz-token-0123456789";

// One sidecar on the real embedded store (PGlite) for both transports: what the store refuses and what it
// stores is part of what is fuzzed.
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

/**
 * The stored mapping's fingerprint before each call, read through the API; or, when the call before was checked
 * to have left the store as it was, that check's own reading: nothing but the fuzzed calls writes to this store.
 */
function storeState() {
  let checked: string | undefined;
  return {
    async before(): Promise<string> {
      const known = checked;
      checked = undefined;
      return known ?? (await readMapping(running.sidecar.service)).fingerprint;
    },
    async expectUnchanged(before: string): Promise<void> {
      const after = (await readMapping(running.sidecar.service)).fingerprint;
      expect(after).toBe(before);
      checked = after;
    },
  };
}

/** The failure body the provisioner parses: a non-empty list of non-empty messages, or the 404/401 strings. */
function expectClearFailure(call: RestCall, answer: HttpAnswer): void {
  if (answer.status === 400 || answer.status === 413) {
    const errors = (answer.json as { errors?: unknown } | undefined)?.errors;
    expect(Array.isArray(errors) && errors.length > 0, answer.text).toBe(true);
    for (const message of errors as unknown[])
      expect(typeof message === "string" && message.length > 3).toBe(true);
  } else if (answer.status === 404 && call.path.endsWith("/")) {
    // An empty id leaves no route of its own: the listener's JSON "Not found", or (component_id/) the role
    // route reading "component_id" as a role id. Either way a 404, never a write.
    expect(answer.json).toMatch(/^Not found$|^Role not found for role_id component_id$/);
  } else if (answer.status === 404) {
    expect(typeof answer.json === "string" && answer.json.length > 0, answer.text).toBe(true);
  } else {
    expect(answer.json, answer.text).toBe("Unauthorized");
  }
}

async function checkStored(call: RestCall, answer: HttpAnswer): Promise<void> {
  if (!call.expect) return;
  const request = call.expect.request;
  const service = running.sidecar.service;
  if (call.expect.kind === "role") {
    const stored = await service.getRole(request.role_id);
    expect(stored.componentId).toBe(request.component_id);
    expect([...stored.rootFields].sort()).toEqual([...(request.graphql_root_field_names as string[])].sort());
    expect((answer.json as { role_id: unknown }).role_id).toBe(request.role_id);
  } else {
    const grants = await service.getRoleGrants(request.role_id);
    const listed = call.expect.kind === "users" ? grants.users : grants.groups;
    const sent = (call.expect.kind === "users" ? request.users : request.groups) as string[];
    expect([...listed].sort()).toEqual([...sent].sort());
  }
}

describe("REST API fuzzing: random inputs into every route", () => {
  it(
    "answers 2xx, or a clear 400/401/404/413 leaving the store exactly as it was",
    async () => {
      const outcomes = new Map<number, number>();
      const store = storeState();
      await fc.assert(
        fc.asyncProperty(restCallArbitrary(API_TOKEN), async (call) => {
          const before = await store.before();
          const answer = await send(`${running.adminUrl}${call.path}`, call.method, call.body, call.auth);
          outcomes.set(answer.status, (outcomes.get(answer.status) ?? 0) + 1);
          expect([200, 204, 400, 401, 404, 413], `${answer.status} ${answer.text}`).toContain(answer.status);
          if (answer.status >= 400) {
            expectClearFailure(call, answer);
            await store.expectUnchanged(before);
          } else {
            await checkStored(call, answer);
          }
        }),
        { numRuns: runs(0.12), seed: FC_SEED },
      );
      // Both successes and each kind of refusal were reached.
      for (const status of [200, 400, 401, 404]) expect(outcomes.get(status) ?? 0).toBeGreaterThan(0);
    },
    fuzzTimeout(0.12),
  );
});

describe("gRPC API fuzzing: random inputs into every RPC", () => {
  it(
    "answers OK or a clear status with details, leaving the store exactly as it was on failure",
    async () => {
      const codes = new Map<number, number>();
      const store = storeState();
      await fc.assert(
        fc.asyncProperty(grpcCallArbitrary, fc.nat({ max: 9 }), async (call, who) => {
          // One call in ten comes without valid credentials.
          const target = who === 0 ? (strangers[call.name.length % strangers.length] as RoleMappingApi) : api;
          const before = await store.before();
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
          if (code !== status.OK || !call.write) await store.expectUnchanged(before);
        }),
        { numRuns: runs(0.12), seed: FC_SEED },
      );
      for (const code of [status.OK, status.INVALID_ARGUMENT, status.NOT_FOUND, status.UNAUTHENTICATED]) {
        expect(codes.get(code) ?? 0, status[code]).toBeGreaterThan(0);
      }
    },
    fuzzTimeout(0.12),
  );
});
