import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPristinePglite } from "../support/pglite-template.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";

// The stand-in's Hasura side of the webhook contract, against a tiny webhook that maps tokens to answers.
const ANSWERS: Record<string, { status: number; body?: unknown }> = {
  "Bearer reader-token": {
    status: 200,
    body: { "X-Hasura-User-Id": "user:alice", "X-Hasura-Role": "reader" },
  },
  "Bearer other-token": { status: 200, body: { "X-Hasura-User-Id": "user:bob", "X-Hasura-Role": "other" } },
  "Bearer broken-token": { status: 500, body: { error: "boom" } },
};

let client: SqlClient;
let hook: Server;
let standIn: HasuraStandIn;
const hookCalls: unknown[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => {
      const body = JSON.parse(text) as { headers: Record<string, string> };
      hookCalls.push({ method: req.method, body });
      const answer = ANSWERS[body.headers.authorization ?? ""] ?? { status: 401 };
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", resolve));
  client = await openPristinePglite();
  standIn = await startHasuraStandIn({
    client,
    adminSecret: "admin-secret",
    authHook: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/v1/authenticate`,
  });
  // The role mapping, written through the Hasura store as the sidecar writes it.
  const store = createHasuraStore({ url: standIn.url, adminSecret: "admin-secret" });
  await store.upsertRole({ roleId: "reader", componentId: "sales-port", rootFields: ["output_port_sales"] });
  await store.upsertRole({ roleId: "other", componentId: "other-port", rootFields: ["output_port_other"] });
});
afterAll(async () => {
  await standIn.close();
  await new Promise((resolve) => hook.close(resolve));
  await client.close();
});

const asClient = (token: string, query: string, extra: Record<string, string> = {}) =>
  postGraphQL(standIn.url, query, {
    headers: { authorization: token, ...extra },
    variables: { limit: 10 },
    operationName: "Sales",
  });

describe("Hasura stand-in with an auth hook", () => {
  it("posts the client's headers and request to the hook, and serves the role the hook returned", async () => {
    hookCalls.length = 0;
    const query =
      "query Sales($limit: Int) { output_port_sales(limit: $limit, order_by: {id: asc}) { id region amount } }";
    const answer = await asClient("Bearer reader-token", query, { "x-request-id": "r-1" });
    expect(answer).toEqual({ status: 200, body: { data: { output_port_sales: SAMPLE_ROWS } } });
    expect(hookCalls).toHaveLength(1);
    expect(hookCalls[0]).toMatchObject({
      method: "POST",
      body: {
        headers: {
          authorization: "Bearer reader-token",
          "x-request-id": "r-1",
          "content-type": "application/json",
        },
        request: { query, variables: { limit: 10 }, operationName: "Sales" },
      },
    });
  });

  it("answers Hasura's access-denied error when the hook says 401", async () => {
    const answer = await asClient("Bearer unknown", "query Sales { output_port_sales { id } }");
    expect(answer.body).toEqual({
      errors: [
        {
          message: "Authentication hook unauthorized this request",
          extensions: { path: "$", code: "access-denied" },
        },
      ],
    });
  });

  it("refuses a root field the returned role is not mapped to", async () => {
    const answer = await asClient("Bearer other-token", "query Sales { output_port_sales { id } }");
    expect(answer.body.errors).toEqual([
      {
        message: "field 'output_port_sales' not found in type: 'query_root'",
        extensions: { path: "$.selectionSet.output_port_sales", code: "validation-failed" },
      },
    ]);
  });

  it("ignores a role header the client sends: the hook decides", async () => {
    const answer = await asClient("Bearer other-token", "query Sales { output_port_sales { id } }", {
      "x-hasura-role": "admin",
    });
    expect(answer.body.errors?.[0]?.extensions.code).toBe("validation-failed");
  });

  it("fails the request when the hook fails", async () => {
    const answer = await asClient("Bearer broken-token", "query Sales { output_port_sales { id } }");
    expect(answer.status).toBe(500);
    expect(answer.body.errors?.[0]).toEqual({
      message: "Invalid response from authorization hook",
      extensions: { path: "$", code: "unexpected" },
    });
  });

  it("leaves `request` out of the hook's body with HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=false", async () => {
    const bodiless = await startHasuraStandIn({
      client,
      adminSecret: "admin-secret",
      authHook: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/v1/authenticate`,
      authHookSendRequestBody: false,
      migrate: false,
    });
    try {
      hookCalls.length = 0;
      const answer = await postGraphQL(bodiless.url, "query Sales { output_port_sales { id } }", {
        headers: { authorization: "Bearer reader-token" },
      });
      expect(answer.status).toBe(200);
      expect(hookCalls).toHaveLength(1);
      expect(Object.keys((hookCalls[0] as { body: object }).body)).toEqual(["headers"]);
    } finally {
      await bodiless.close();
    }
  });

  it("offers no mutations to a role", async () => {
    const answer = await asClient(
      "Bearer reader-token",
      `mutation Sales { delete_output_port_sales(where: {}) { affected_rows } }`,
    );
    expect(answer.body.errors?.[0]?.extensions.code).toBe("validation-failed");
    expect(await client.query("SELECT count(*)::int AS n FROM public.output_port_sales")).toEqual([{ n: 2 }]);
  });
});
