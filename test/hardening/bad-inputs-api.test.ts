import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, failureOf, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { FakeStore } from "../support/fake-store.js";
import { send } from "./support/http.js";
import { readMapping } from "./support/oracle.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

const API_TOKEN = "hardening-bad-input-token-0123456789";
const AUTH = { authorization: `Bearer ${API_TOKEN}` };
const MIB = 1024 * 1024;

let running: RunningSidecar;
let client: RoleMappingServiceClient;
let api: RoleMappingApi;

beforeAll(async () => {
  // Every bound here is enforced before the store is reached, so an in-memory store serves; the fuzzers run
  // the same API on the real embedded one.
  running = await startTestSidecar({ ROLEMAPPER_API_TOKENS: API_TOKEN }, { store: new FakeStore() });
  client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure(), {
    "grpc.max_send_message_length": 64 * MIB,
  });
  api = promiseApi(client, bearer(API_TOKEN));
  await api.upsertRole({ roleId: "held", componentId: "cmp-held", graphqlRootFieldNames: ["orders"] });
  await api.setUserRoles({ roleId: "held", users: ["user:keep-me"] });
});
afterAll(async () => {
  client?.close();
  await running?.stop();
});

const rest = (method: string, path: string, body?: unknown) =>
  send(`${running.adminUrl}${path}`, method, body === undefined ? undefined : JSON.stringify(body), AUTH);
const fingerprint = async () => (await readMapping(running.sidecar.service)).fingerprint;
const million = () => Array.from({ length: 1_000_000 }, (_, i) => `user:u${i}`);

describe("RoleMapping API: oversized and malformed input, each with its answer, the store untouched", () => {
  it("a role id of 256 characters: 400 / INVALID_ARGUMENT naming the field and the length; 255 is fine", async () => {
    const before = await fingerprint();
    const answer = await rest("PUT", "/v1/roles", {
      role_id: "r".repeat(256),
      component_id: "cmp-long",
      graphql_root_field_names: [],
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: ["role_id: must be at most 255 characters (got 256)"] });
    const grpc = await failureOf(
      api.upsertRole({ roleId: "r".repeat(256), componentId: "cmp-long", graphqlRootFieldNames: [] }),
    );
    expect(grpc).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "role_id: must be at most 255 characters (got 256)",
    });
    expect(await fingerprint()).toBe(before);
    const fits = await rest("PUT", "/v1/roles", {
      role_id: "r".repeat(255),
      component_id: "cmp-long",
      graphql_root_field_names: [],
    });
    expect(fits.status).toBe(200);
    expect((await rest("DELETE", `/v1/roles/${"r".repeat(255)}`)).status).toBe(204);
  });

  it("a root field, a component id or a user of 256 characters: 400 naming which one", async () => {
    const before = await fingerprint();
    const long = "f".repeat(256);
    expect(
      (
        await rest("PUT", "/v1/roles", {
          role_id: "x",
          component_id: "c",
          graphql_root_field_names: ["ok", long],
        })
      ).json,
    ).toEqual({ errors: ["graphql_root_field_names[1]: must be at most 255 characters (got 256)"] });
    expect(
      (await rest("PUT", "/v1/roles", { role_id: "x", component_id: long, graphql_root_field_names: [] }))
        .json,
    ).toEqual({
      errors: ["component_id: must be at most 255 characters (got 256)"],
    });
    expect((await rest("PUT", "/v1/user_roles", { role_id: "held", users: [`user:${long}`] })).json).toEqual({
      errors: ["users[0]: must be at most 255 characters (got 261)"],
    });
    expect(await fingerprint()).toBe(before);
  });

  it("a 1,000,000-user list over REST: 400 with the bound and the count; the held users stay", async () => {
    const before = await fingerprint();
    const answer = await rest("PUT", "/v1/user_roles", { role_id: "held", users: million() });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: ["users: at most 100000 entries allowed (got 1000000)"] });
    expect(await fingerprint()).toBe(before);
  });

  it("a 1,000,000-group list over gRPC: INVALID_ARGUMENT with the bound and the count", async () => {
    const before = await fingerprint();
    const groups = Array.from({ length: 1_000_000 }, (_, i) => `group:g${i}`);
    expect(await failureOf(api.setGroupRoles({ roleId: "held", groups }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "groups: at most 100000 entries allowed (got 1000000)",
    });
    expect(await fingerprint()).toBe(before);
  });

  it("a REST body over the 32 MiB bound: 413; a gRPC message over it: RESOURCE_EXHAUSTED", async () => {
    const before = await fingerprint();
    const padding = "p".repeat(33 * MIB);
    const answer = await rest("PUT", "/v1/user_roles", { role_id: "held", users: ["user:a"], padding });
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({ errors: ["request body too large"] });
    const failure = await failureOf(api.setUserRoles({ roleId: "held", users: [`user:${padding}`] }));
    expect(failure.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(await fingerprint()).toBe(before);
  });

  it("NUL characters and unpaired surrogates in ids: 400 naming the field, nothing written", async () => {
    const before = await fingerprint();
    expect((await rest("PUT", "/v1/user_roles", { role_id: "held", users: ["user:a\u0000b"] })).json).toEqual(
      {
        errors: ["users[0]: must not contain NUL characters"],
      },
    );
    expect(
      (
        await rest("PUT", "/v1/roles", {
          role_id: "r\ud800",
          component_id: "c",
          graphql_root_field_names: [],
        })
      ).json,
    ).toEqual({ errors: ["role_id: must be valid Unicode (it has an unpaired surrogate)"] });
    expect(
      await failureOf(api.upsertRole({ roleId: "r\u0000", componentId: "c", graphqlRootFieldNames: [] })),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "role_id: must not contain NUL characters",
    });
    expect(await fingerprint()).toBe(before);
  });

  it("bodies that are not JSON objects, fields of the wrong type, duplicate users: 400 each", async () => {
    const before = await fingerprint();
    const cases: [unknown, string][] = [
      [[1, 2], "body: expected a JSON object"],
      [{ role_id: "held" }, "users: required field missing"],
      [{ role_id: 5, users: [] }, "role_id: expected a string"],
      [{ role_id: "held", users: "user:a" }, "users: expected a list of strings"],
      [{ role_id: "held", users: ["user:a", "user:a"] }, 'users[1]: duplicate entry "user:a"'],
      [{ role_id: "held", users: ["alice"] }, 'users[0]: must start with "user:" followed by a name'],
    ];
    for (const [body, message] of cases) {
      expect((await rest("PUT", "/v1/user_roles", body)).json, JSON.stringify(body)).toEqual({
        errors: [message],
      });
    }
    const raw = await send(
      `${running.adminUrl}/v1/user_roles`,
      "PUT",
      '{"role_id": "held", "users": [',
      AUTH,
    );
    expect(raw.json).toEqual({ errors: ["request body is not valid JSON"] });
    expect(await fingerprint()).toBe(before);
  });

  it("a malformed path id: 400, not an internal error", async () => {
    const answer = await send(`${running.adminUrl}/v1/roles/%E0%A4%A`, "GET", undefined, AUTH);
    expect(answer.status).toBe(400);
  });

  it("ListRoles with a page size or token it never issued: INVALID_ARGUMENT", async () => {
    expect((await failureOf(api.listRoles({ pageSize: 1001, pageToken: "" }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect((await failureOf(api.listRoles({ pageSize: -1, pageToken: "" }))).code).toBe(
      status.INVALID_ARGUMENT,
    );
    expect(await failureOf(api.listRoles({ pageSize: 10, pageToken: "bm90LWEtdG9rZW4" }))).toEqual({
      code: status.INVALID_ARGUMENT,
      details: "page_token: not a token returned by ListRoles",
    });
  });

  it("the held mapping is intact after every refusal above", async () => {
    expect((await api.getRoleGrants({ roleId: "held" })).users).toEqual(["user:keep-me"]);
  });
});
