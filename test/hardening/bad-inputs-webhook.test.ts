import { constants, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeStore } from "../support/fake-store.js";
import { postWebhook, send } from "./support/http.js";
import { seedHardeningMapping } from "./support/mapping.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

const MIB = 1024 * 1024;
const ALICE_ALLOWED = { "X-Hasura-User-Id": "user:alice_corp.com", "X-Hasura-Role": "r_orders" };

// Defaults as deployed (1 MiB bodies, 100 KiB queries, 10,000 tokens), and one with every outer bound opened
// wide, so an attack that the first stops at the door reaches the inner bounds in the second.
let standard: RunningSidecar;
let generous: RunningSidecar;
let alice: Record<string, string>;

beforeAll(async () => {
  // Started side by side: each waits on its own development key pair (generated off the main thread).
  [standard, generous] = await Promise.all([
    startTestSidecar({}, { store: new FakeStore() }),
    startTestSidecar(
      {
        WEBHOOK_BODY_LIMIT_BYTES: String(64 * MIB),
        MAX_QUERY_LENGTH: String(16 * MIB),
        MAX_QUERY_TOKENS: "1000000",
      },
      { store: new FakeStore() },
    ),
  ]);
  await Promise.all([standard, generous].map((running) => seedHardeningMapping(running.sidecar.service)));
  // Both sidecars share nothing, so each has its own issuer; the token is checked by the one that minted it.
  alice = {
    Authorization: `Bearer ${await standard.issuer!.mint({ user: "alice@corp.com", groups: ["analysts"] })}`,
  };
});
afterAll(async () => {
  await standard?.stop();
  await generous?.stop();
});

async function aliceOn(running: RunningSidecar): Promise<Record<string, string>> {
  if (running === standard) return alice;
  return {
    Authorization: `Bearer ${await running.issuer!.mint({ user: "alice@corp.com", groups: ["analysts"] })}`,
  };
}

/** The bytes of `JSON.stringify({ ...value, pad: "x".repeat(size) })`, without making that string first. */
function paddedJson(value: object, size: number): Buffer {
  const text = JSON.stringify({ ...value, pad: "" });
  // The text ends in `"pad":""}`: the x's go between its last two quotes.
  return Buffer.concat([
    Buffer.from(text.slice(0, -2)),
    Buffer.alloc(size, "x"),
    Buffer.from(text.slice(-2)),
  ]);
}

const nested = (depth: number) => `{ orders ${"{ a ".repeat(depth)}${"}".repeat(depth)} }`;
const aliases = (count: number) =>
  `{ ${Array.from({ length: count }, (_, i) => `a${i}: orders`).join(" ")} }`;
const rootFields = (count: number) => `{ ${Array.from({ length: count }, (_, i) => `f${i}`).join(" ")} }`;

describe("webhook: oversized and malformed input, each with its answer", () => {
  it("a 10 MB body: 413 before it is parsed", async () => {
    const answer = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: "{ orders }" },
      padding: "x".repeat(10 * MIB),
    });
    expect(answer.status).toBe(413);
    expect(answer.json).toEqual({ errors: ["request body too large"] });
  });

  it("a gzip bomb (200 MB inflated from a small body): 413, counted after inflation", async () => {
    // Deflated run by run (Z_RLE): the same 200 MB document, compressed in a fraction of the default's time.
    const bomb = gzipSync(paddedJson({ headers: alice, request: { query: "{ orders }" } }, 200 * MIB), {
      strategy: constants.Z_RLE,
    });
    expect(bomb.length).toBeLessThan(MIB);
    const answer = await send(`${standard.webhookUrl}/v1/authenticate`, "POST", bomb, {
      "content-encoding": "gzip",
    });
    expect(answer.status).toBe(413);
  });

  it("a query nested 10,000 deep: 400 'nested too deeply' (the parser's stack gives out before the token bound)", async () => {
    const atDefaults = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: nested(10_000) },
    });
    expect(atDefaults.status).toBe(400);
    expect(atDefaults.json).toEqual({ errors: ["query: query is nested too deeply"] });
    const opened = await postWebhook(generous.webhookUrl, {
      headers: await aliceOn(generous),
      request: { query: nested(10_000) },
    });
    expect(opened.status).toBe(400);
    expect(opened.json).toEqual({ errors: ["query: query is nested too deeply"] });
  });

  it("100,000 aliases of one field: 413 over the body bound; allowed as one root field once the bounds allow it", async () => {
    const atDefaults = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: aliases(100_000) },
    });
    expect(atDefaults.status).toBe(413);
    // 10,000 aliases fit the body but not the 100 KiB query bound.
    const tenThousand = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: aliases(10_000) },
    });
    expect(tenThousand.json).toEqual({ errors: ["query: query is longer than 102400 characters"] });
    const opened = await postWebhook(generous.webhookUrl, {
      headers: await aliceOn(generous),
      request: { query: aliases(100_000) },
    });
    expect(opened.status).toBe(200);
    expect(opened.json).toEqual(ALICE_ALLOWED);
  });

  it("100,000 aliases spread over an unmapped field: denied, the alias does not hide it", async () => {
    const query = `{ ${aliases(50_000).slice(1, -1)} orders: secrets }`;
    const answer = await postWebhook(generous.webhookUrl, {
      headers: await aliceOn(generous),
      request: { query },
    });
    expect(answer.status).toBe(401);
  });

  it("10,000 distinct root fields: 400 at the token bound, and 400 at the 1,000 root field bound past it", async () => {
    const atDefaults = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: rootFields(10_000) },
    });
    expect(atDefaults.status).toBe(400);
    const opened = await postWebhook(generous.webhookUrl, {
      headers: await aliceOn(generous),
      request: { query: rootFields(10_000) },
    });
    expect(opened.status).toBe(400);
    expect(opened.json).toEqual({ errors: ["query: more than 1000 root fields"] });
  });

  it("invalid UTF-8: U+FFFD in the document is a 400; in a string argument it is just data", async () => {
    const prefix = `{"headers":${JSON.stringify(alice)},"request":{"query":"{ orders`;
    const inName = Buffer.concat([Buffer.from(prefix), Buffer.from([0xff, 0xfe]), Buffer.from(' }"}}')]);
    const answer = await postWebhook(standard.webhookUrl, undefined, inName);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: [expect.stringMatching(/Unexpected character: U\+FFFD/)] });
    const inString = Buffer.concat([
      Buffer.from(`${prefix}(where: \\"`),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\\") }"}}'),
    ]);
    expect((await postWebhook(standard.webhookUrl, undefined, inString)).json).toEqual(ALICE_ALLOWED);
  });

  it("invalid UTF-8 in the bearer token: 401", async () => {
    const body = Buffer.concat([
      Buffer.from(`{"headers":{"Authorization":"Bearer ${alice.Authorization!.slice(7, 40)}`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from(`${alice.Authorization!.slice(40)}"},"request":{"query":"{ orders }"}}`),
    ]);
    expect((await postWebhook(standard.webhookUrl, undefined, body)).status).toBe(401);
  });

  it("a body in another charset, or a compressed body that does not inflate: 400", async () => {
    const body = JSON.stringify({ headers: alice, request: { query: "{ orders }" } });
    const variants: Record<string, string>[] = [
      { "content-type": "application/json; charset=latin1" },
      { "content-encoding": "gzip" },
      { "content-encoding": "deflate" },
      { "content-encoding": "compress" },
    ];
    for (const headers of variants) {
      const answer = await send(`${standard.webhookUrl}/v1/authenticate`, "POST", body, headers);
      expect(answer.status, JSON.stringify(headers)).toBe(400);
      expect((answer.json as { errors: unknown[] }).errors).toHaveLength(1);
    }
  });

  it("duplicate JSON keys: the last one counts (as JSON.parse and Hasura's encoder do), for the query and the token alike", async () => {
    const token = alice.Authorization!;
    const lastIsForbidden = `{"headers":{"Authorization":"${token}"},"request":{"query":"{ orders }","query":"{ secrets }"}}`;
    expect((await postWebhook(standard.webhookUrl, undefined, lastIsForbidden)).status).toBe(401);
    const lastIsAllowed = `{"headers":{"Authorization":"${token}"},"request":{"query":"{ secrets }","query":"{ orders }"}}`;
    expect((await postWebhook(standard.webhookUrl, undefined, lastIsAllowed)).json).toEqual(ALICE_ALLOWED);
    const lastTokenBad = `{"headers":{"Authorization":"${token}","Authorization":"Bearer forged"},"request":{"query":"{ orders }"}}`;
    expect((await postWebhook(standard.webhookUrl, undefined, lastTokenBad)).status).toBe(401);
  });

  it("an operationName holding NUL cannot borrow another request's cached analysis: each is decided on its own document", async () => {
    // The first request is fine: a comment may hold NUL. The second spells the same name + NUL + query text.
    const first = { query: "query A { orders } #\u0000x", operationName: "A" };
    const second = { query: "x", operationName: "A\u0000query A { orders } #" };
    expect((await postWebhook(standard.webhookUrl, { headers: alice, request: first })).json).toEqual(
      ALICE_ALLOWED,
    );
    const answer = await postWebhook(standard.webhookUrl, { headers: alice, request: second });
    expect(answer.status).toBe(400);
  });

  it("one header in two spellings with different values: 400, the token is ambiguous", async () => {
    const answer = await postWebhook(standard.webhookUrl, {
      headers: { ...alice, authorization: "Bearer other" },
      request: { query: "{ orders }" },
    });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: ["headers.authorization: given twice with different values"] });
  });

  it.each([
    ["a number", 42, "request: expected an object with a query"],
    ["a string", "{ orders }", "request: expected an object with a query"],
    ["true", true, "request: expected an object with a query"],
    ["an empty batch", [], "request: an empty batch"],
    ["a query that is a number", { query: 1 }, "request.query: expected a string"],
    [
      "an operationName object",
      { query: "{ orders }", operationName: {} },
      "request.operationName: expected a string or null",
    ],
    ["a batch with a bad entry", [{ query: "{ orders }" }, 7], "request[1]: expected an object with a query"],
  ])("`request` as %s: 400 naming the field", async (_name, request, message) => {
    const answer = await postWebhook(standard.webhookUrl, { headers: alice, request });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: [message] });
  });

  it("`headers` of the wrong type or with a non-string value: 400 naming it", async () => {
    expect((await postWebhook(standard.webhookUrl, { headers: [], request: null })).json).toEqual({
      errors: ["headers: expected an object of header names to strings"],
    });
    expect(
      (await postWebhook(standard.webhookUrl, { headers: { ...alice, "X-Hasura-Role": 5 }, request: null }))
        .json,
    ).toEqual({
      errors: ["headers.X-Hasura-Role: expected a string"],
    });
  });

  it("a 1 MB header value: 413 under the default body bound; ignored when it is not the token, past it", async () => {
    const big = "v".repeat(MIB);
    const atDefaults = await postWebhook(standard.webhookUrl, {
      headers: { ...alice, "X-Big": big },
      request: { query: "{ orders }" },
    });
    expect(atDefaults.status).toBe(413);
    const opened = await postWebhook(generous.webhookUrl, {
      headers: { ...(await aliceOn(generous)), "X-Big": big },
      request: { query: "{ orders }" },
    });
    expect(opened.json).toEqual(ALICE_ALLOWED);
  });

  it("a 1 MB token: 413 under the default body bound, 401 (over the 16 KiB token bound) past it", async () => {
    const token = { Authorization: `Bearer ${"a".repeat(MIB)}` };
    expect(
      (await postWebhook(standard.webhookUrl, { headers: token, request: { query: "{ orders }" } })).status,
    ).toBe(413);
    expect(
      (await postWebhook(generous.webhookUrl, { headers: token, request: { query: "{ orders }" } })).status,
    ).toBe(401);
  });

  it("a 1 MB X-Hasura-Role, or a role id of 256 characters: 401, no such role is held", async () => {
    for (const role of ["r".repeat(MIB), "r".repeat(256)]) {
      const answer = await postWebhook(generous.webhookUrl, {
        headers: { ...(await aliceOn(generous)), "X-Hasura-Role": role },
        request: { query: "{ orders }" },
      });
      expect(answer.status).toBe(401);
    }
  });

  it("more than 256 headers, or a batch over 50 operations: 400", async () => {
    const headers = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`x-h${i}`, "v"]));
    expect(
      (await postWebhook(standard.webhookUrl, { headers: { ...alice, ...headers }, request: null })).status,
    ).toBe(400);
    const batch = Array.from({ length: 51 }, () => ({ query: "{ orders }" }));
    expect((await postWebhook(standard.webhookUrl, { headers: alice, request: batch })).json).toEqual({
      errors: ["request: a batch holds at most 50 operations"],
    });
  });

  it.each([
    [
      "two fragments of one name, the allowed one last (was 200 on the last)",
      { query: "{ ...F } fragment F on Query { payroll } fragment F on Query { orders }" },
      'query: There can be only one fragment named "F".',
    ],
    [
      "two operations of one name, the allowed one first (was 200 on the first)",
      { query: "query Q { orders } query Q { payroll }", operationName: "Q" },
      'query: There can be only one operation named "Q".',
    ],
    [
      "an anonymous operation beside the named one asked for (was 200 on the named one)",
      { query: "{ payroll } query Q { orders }", operationName: "Q" },
      "query: This anonymous operation must be the only defined operation.",
    ],
    [
      "a variable declared twice (was 200)",
      { query: "query ($v: Boolean, $v: Int) { orders @include(if: $v) }" },
      'query: There can be only one variable named "$v".',
    ],
  ])("a document no server would run: %s → 400", async (_name, request, message) => {
    const answer = await postWebhook(standard.webhookUrl, { headers: alice, request });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ errors: [message] });
  });

  it("no `request` key (HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=false): 400, not a websocket's 200", async () => {
    const answer = await postWebhook(standard.webhookUrl, { headers: alice });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain("HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY=true");
  });

  it("after all of the above the sidecar still answers a normal request", async () => {
    const answer = await postWebhook(standard.webhookUrl, {
      headers: alice,
      request: { query: "{ orders }" },
    });
    expect(answer.json).toEqual(ALICE_ALLOWED);
  });
});
