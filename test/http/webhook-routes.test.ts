import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthorizationResult, Authorizer } from "../../src/core/authorizer.js";
import { createWebhookApp } from "../../src/http/webhook-app.js";
import type { AnswerHook, ShadowedCall } from "../../src/shadow/shadow-mode.js";

// The webhook listener's routing, as express routed it before: paths in any case, with or without a trailing
// slash, whatever the query string; GET routes answer HEAD; everything else is a JSON 404.

const ALLOWED: AuthorizationResult = {
  outcome: "allow",
  reason: "allowed",
  user: "user:a",
  role: "r",
  groupCount: 0,
  rootFields: ["orders"],
} as unknown as AuthorizationResult;

let server: Server;
let base: string;
let failNext = false;
beforeAll(async () => {
  const authorizer = {
    authorize: () => (failNext ? Promise.reject(new Error("unexpected")) : Promise.resolve(ALLOWED)),
  } as unknown as Authorizer;
  const app = createWebhookApp({
    authorizer,
    decisions: { record: () => undefined },
    ready: () => true,
    bodyLimitBytes: 1024,
    maxBatch: 3,
    devJwks: () => ({ keys: [] }),
    logger: { warn: () => undefined },
  });
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const body = JSON.stringify({ headers: {}, request: { query: "{ orders { id } }" } });

async function call(method: string, path: string) {
  const response = await fetch(`${base}${path}`, { method, ...(method === "POST" ? { body } : {}) });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    length: response.headers.get("content-length"),
    body: text === "" ? undefined : (JSON.parse(text) as unknown),
  };
}

describe("webhook listener routes", () => {
  it.each(["/v1/authenticate", "/V1/Authenticate", "/v1/authenticate/", "/v1/authenticate?x=1"])(
    "POST %s decides",
    async (path) => {
      expect(await call("POST", path)).toEqual({
        status: 200,
        type: "application/json; charset=utf-8",
        length: String(
          Buffer.byteLength(JSON.stringify({ "X-Hasura-User-Id": "user:a", "X-Hasura-Role": "r" })),
        ),
        body: { "X-Hasura-User-Id": "user:a", "X-Hasura-Role": "r" },
      });
    },
  );

  it.each([
    ["GET", "/healthz", 200, { status: "ok" }],
    ["GET", "/READYZ/", 200, { status: "ready" }],
    ["GET", "/v1/health?probe=1", 200, "Alive"],
    ["GET", "/dev/jwks.json", 200, { keys: [] }],
    ["HEAD", "/healthz", 200, undefined],
    ["GET", "/v1/authenticate", 404, "Not found"],
    ["POST", "/healthz", 404, "Not found"],
    ["PUT", "/v1/authenticate", 404, "Not found"],
    ["GET", "/", 404, "Not found"],
    ["GET", "/v1/authenticate/extra", 404, "Not found"],
  ])("%s %s: %i", async (method, path, status, answer) => {
    const answered = await call(method, path);
    expect(answered).toMatchObject({ status, type: "application/json; charset=utf-8", body: answer });
  });

  it("answers 500 System error, never the details, when deciding throws", async () => {
    failNext = true;
    try {
      expect(await call("POST", "/v1/authenticate")).toMatchObject({
        status: 500,
        body: { error: "System error" },
      });
    } finally {
      failNext = false;
    }
  });
});

describe("webhook listener with a shadow answer hook", () => {
  it("hands the hook the body as received and this side's answer, and sends what the hook chooses", async () => {
    const calls: ShadowedCall[] = [];
    const hook: AnswerHook = {
      answer(call, send) {
        calls.push(call);
        if (call.status === 200) send.relay(401, "application/json", Buffer.from('"Unauthorized"'));
        else send.self();
      },
    };
    const app = createWebhookApp({
      authorizer: { authorize: () => Promise.resolve(ALLOWED) } as unknown as Authorizer,
      decisions: { record: () => undefined },
      ready: () => true,
      bodyLimitBytes: 1024,
      maxBatch: 3,
      logger: { warn: () => undefined },
      answerHook: hook,
    });
    const own = createServer(app);
    await new Promise<void>((resolve) => own.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(own.address() as AddressInfo).port}/v1/authenticate`;
    try {
      const relayed = await fetch(url, { method: "POST", body });
      expect([relayed.status, relayed.headers.get("content-type"), await relayed.json()]).toEqual([
        401,
        "application/json",
        "Unauthorized",
      ]);
      const bad = await fetch(url, { method: "POST", body: '{"headers": 1, "request": null}' });
      expect(bad.status).toBe(400);
      expect(calls.map((call) => [call.rawBody.toString(), call.status, call.reason])).toEqual([
        [body, 200, "allowed"],
        ['{"headers": 1, "request": null}', 400, "bad_request"],
      ]);
    } finally {
      await new Promise<void>((resolve) => own.close(() => resolve()));
    }
  });
});
