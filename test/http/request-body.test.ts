import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BodyError, parseJsonBody, readRequestBody } from "../../src/http/request-body.js";

const LIMIT = 64;

// Answers each request with what readRequestBody made of it: the text, "undefined", or the failure kind.
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((req, res) => {
    readRequestBody(req, LIMIT).then(
      (body) => res.end(JSON.stringify({ text: body?.text ?? "undefined" })),
      (error: unknown) =>
        res.end(JSON.stringify({ failure: error instanceof BodyError ? error.failure : "?" })),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

interface Sent {
  readonly body?: Buffer | string;
  readonly headers?: Record<string, string>;
  /** Send the body in two chunks with no content-length (chunked transfer encoding). */
  readonly chunked?: boolean;
  /** POST unless given: node's client announces an empty body for a POST without one. */
  readonly method?: string;
}

function send({ body, headers = {}, chunked = false, method = "POST" }: Sent): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method, path: "/", headers, agent: false }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve(JSON.parse(text)));
    });
    req.on("error", reject);
    if (body === undefined) req.end();
    else if (chunked) {
      const bytes = Buffer.from(body);
      req.write(bytes.subarray(0, bytes.length >> 1));
      req.end(bytes.subarray(bytes.length >> 1));
    } else req.end(body);
  });
}

const json = '{"a":"é"}';

describe("readRequestBody", () => {
  it.each<[string, Sent, unknown]>([
    ["no body announced", { method: "GET" }, { text: "undefined" }],
    ["an empty body", { body: "" }, { text: "" }],
    ["UTF-8, the default", { body: json }, { text: json }],
    ["a leading UTF-8 byte order mark, dropped", { body: `\uFEFF${json}` }, { text: json }],
    [
      "charset utf-8 in any case, quoted",
      { body: json, headers: { "content-type": 'application/json; Charset="UTF-8"' } },
      { text: json },
    ],
    [
      "charset utf-16le",
      {
        body: Buffer.from(json, "utf16le"),
        headers: { "content-type": "application/json; charset=utf-16le" },
      },
      { text: json },
    ],
    ["a chunked body", { body: json, chunked: true }, { text: json }],
    ["gzip", { body: gzipSync(json), headers: { "content-encoding": "gzip" } }, { text: json }],
    ["deflate", { body: deflateSync(json), headers: { "content-encoding": "deflate" } }, { text: json }],
    ["br", { body: brotliCompressSync(json), headers: { "content-encoding": "BR" } }, { text: json }],
    ["exactly the limit", { body: "x".repeat(LIMIT) }, { text: "x".repeat(LIMIT) }],
  ])("reads %s", async (_name, sent, expected) => {
    expect(await send(sent)).toEqual(expected);
  });

  it.each<[string, Sent, string]>([
    [
      "a charset outside UTF",
      { body: json, headers: { "content-type": "text/plain; charset=latin1" } },
      "unsupported_encoding",
    ],
    [
      "utf8 without its dash (body-parser's rule)",
      { body: json, headers: { "content-type": "a/b; charset=utf8" } },
      "unsupported_encoding",
    ],
    [
      "an unknown utf-* charset",
      { body: json, headers: { "content-type": "a/b; charset=utf-99" } },
      "unsupported_encoding",
    ],
    [
      "an unknown content encoding",
      { body: json, headers: { "content-encoding": "compress" } },
      "unsupported_encoding",
    ],
    [
      "a gzip body that does not inflate",
      { body: json, headers: { "content-encoding": "gzip" } },
      "undecodable",
    ],
    ["one byte over the limit", { body: "x".repeat(LIMIT + 1) }, "too_large"],
    ["a chunked body over the limit", { body: "x".repeat(LIMIT * 4), chunked: true }, "too_large"],
    [
      "a small gzip body inflating past the limit",
      { body: gzipSync("x".repeat(LIMIT * 100)), headers: { "content-encoding": "gzip" } },
      "too_large",
    ],
  ])("refuses %s", async (_name, sent, failure) => {
    expect(await send(sent)).toEqual({ failure });
  });

  it("gives the bytes as they inflated, before decoding, beside the text", async () => {
    const bytes = Buffer.from(`\uFEFF${json}`);
    const seen = await new Promise<unknown>((resolve, reject) => {
      const own = createServer((req, res) => {
        readRequestBody(req, LIMIT).then((body) => {
          resolve(body && { bytes: body.bytes, text: body.text });
          res.end();
          own.close();
        }, reject);
      });
      own.listen(0, "127.0.0.1", () => {
        const address = own.address() as AddressInfo;
        const headers = { "content-encoding": "gzip" };
        request({ host: "127.0.0.1", port: address.port, method: "POST", headers, agent: false })
          .on("error", reject)
          .end(gzipSync(bytes));
      });
    });
    expect(seen).toEqual({ bytes, text: json });
  });

  it("reads off a refused body, so the kept-alive connection answers the next request", async () => {
    const { Agent } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const ask = (body: string) =>
        new Promise<{ answer: unknown; socket: unknown }>((resolve, reject) => {
          const req = request({ host: "127.0.0.1", port, method: "POST", path: "/", agent }, (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ answer: JSON.parse(text), socket: req.socket }));
          });
          req.on("error", reject);
          req.end(body);
        });
      const refused = await ask("x".repeat(LIMIT * 1000));
      const next = await ask(json);
      expect(refused.answer).toEqual({ failure: "too_large" });
      expect(next).toEqual({ answer: { text: json }, socket: refused.socket });
    } finally {
      agent.destroy();
    }
  });
});

describe("parseJsonBody", () => {
  it.each<[string, unknown]>([
    ["", {}],
    ['{"a":1}', { a: 1 }],
    [' \t\r\n{"a":1}', { a: 1 }],
    ["[1]", [1]],
    ['{"a":1,"a":2}', { a: 2 }],
  ])("parses %j", (text, value) => {
    expect(parseJsonBody(text)).toEqual(value);
  });

  it.each(['"hello"', "5", "true", "null", "   ", '{"a":', "{'a':1}", '\uFEFF{"a":1}'])(
    "refuses %j as not valid JSON",
    (text) => {
      expect(() => parseJsonBody(text)).toThrow(new BodyError("not_json", "request body is not valid JSON"));
    },
  );
});
