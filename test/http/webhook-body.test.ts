import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/core/errors.js";
import { MissingRequestError, parseWebhookBody } from "../../src/http/webhook-body.js";
import { catchError } from "../support/catch-error.js";

const limits = { maxHeaders: 3, maxBatch: 2 };

describe("parseWebhookBody", () => {
  it("lower-cases header names and keeps values as sent", () => {
    const input = parseWebhookBody(
      { headers: { Authorization: "Bearer AbC", "X-Hasura-Role": "R1" }, request: { query: "{a}" } },
      limits,
    );
    expect([...input.headers]).toEqual([
      ["authorization", "Bearer AbC"],
      ["x-hasura-role", "R1"],
    ]);
  });

  it.each([
    {
      name: "one request",
      request: { query: "{a}", operationName: "Q", variables: { x: 1 } },
      expected: { query: "{a}", operationName: "Q" },
    },
    {
      name: "a null operationName",
      request: { query: "{a}", operationName: null },
      expected: { query: "{a}", operationName: undefined },
    },
    {
      name: "an empty operationName",
      request: { query: "{a}", operationName: "" },
      expected: { query: "{a}", operationName: undefined },
    },
    {
      name: "a batch",
      request: [{ query: "{a}" }, { query: "{b}" }],
      expected: [
        { query: "{a}", operationName: undefined },
        { query: "{b}", operationName: undefined },
      ],
    },
    { name: "null (connection_init)", request: null, expected: null },
  ])("takes $name", ({ request, expected }) => {
    expect(parseWebhookBody({ headers: {}, request }, limits).request).toEqual(expected);
  });

  it("accepts the same header twice in two spellings when the values agree", () => {
    const input = parseWebhookBody(
      { headers: { authorization: "Bearer t", Authorization: "Bearer t" }, request: null },
      limits,
    );
    expect(input.headers.get("authorization")).toBe("Bearer t");
  });

  it.each([
    { name: "a body that is not an object", body: "x", field: "body" },
    { name: "a body that is a list", body: [], field: "body" },
    { name: "headers missing", body: { request: null }, field: "headers" },
    { name: "headers a list", body: { headers: [] }, field: "headers" },
    { name: "too many headers", body: { headers: { a: "1", b: "2", c: "3", d: "4" } }, field: "headers" },
    { name: "a header value not a string", body: { headers: { "X-N": 1 } }, field: "headers.X-N" },
    {
      name: "a header in two spellings with two values",
      body: { headers: { a: "1", A: "2" } },
      field: "headers.A",
    },
    { name: "request missing", body: { headers: {} }, field: "request" },
    { name: "request a number", body: { headers: {}, request: 5 }, field: "request" },
    { name: "request a string", body: { headers: {}, request: "{a}" }, field: "request" },
    { name: "query missing", body: { headers: {}, request: {} }, field: "request.query" },
    {
      name: "query not a string",
      body: { headers: {}, request: { query: ["{a}"] } },
      field: "request.query",
    },
    {
      name: "operationName a number",
      body: { headers: {}, request: { query: "{a}", operationName: 1 } },
      field: "request.operationName",
    },
    { name: "an empty batch", body: { headers: {}, request: [] }, field: "request" },
    {
      name: "a batch over the bound",
      body: { headers: {}, request: [{ query: "a" }, { query: "b" }, { query: "c" }] },
      field: "request",
    },
    {
      name: "a bad batch entry",
      body: { headers: {}, request: [{ query: "a" }, { query: 2 }] },
      field: "request[1].query",
    },
  ])("refuses $name, naming $field", ({ body, field }) => {
    let error: unknown;
    try {
      parseWebhookBody(body, limits);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).field).toBe(field);
  });

  it("tells a missing request from a websocket's null, naming the Hasura setting that leaves it out", () => {
    const error = catchError(() => parseWebhookBody({ headers: { Authorization: "Bearer t" } }, limits));
    expect(error).toBeInstanceOf(MissingRequestError);
    expect((error as Error).message).toMatch(
      /^request: missing: .*HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=true/,
    );
    expect(catchError(() => parseWebhookBody({ headers: {}, request: null }, limits))).toBeUndefined();
  });
});
