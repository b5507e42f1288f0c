import { afterEach, describe, expect, it } from "vitest";
import {
  MAX_SHADOW_ANSWER_BYTES,
  shadowClient,
  type ShadowAnswer,
  type ShadowPost,
} from "../../src/shadow/shadow-client.js";
import { startAnsweringServer, type AnsweringServer, type Answerer } from "./answering-server.js";

let peer: AnsweringServer | undefined;
let closeClient: (() => Promise<void>) | undefined;

// One call, as a promise: the client reports to a receiver.
const postOnce = (post: ShadowPost, body: Buffer) =>
  new Promise<ShadowAnswer>((answered, failed) => post(body, { answered, failed }));

async function serve(handle: Answerer, { timeoutMs = 200, credentials = "" } = {}) {
  const answering = await startAnsweringServer(handle, credentials);
  peer = answering;
  const client = shadowClient(answering.url, timeoutMs, 4);
  closeClient = client.close;
  return { client, server: answering.server };
}

afterEach(async () => {
  await closeClient?.();
  closeClient = undefined;
  await peer?.close();
  peer = undefined;
});

describe("shadowClient", () => {
  it("posts the body as given and returns status, type and body as received, over kept-alive connections", async () => {
    const seen: string[] = [];
    const { client, server } = await serve((req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers["content-type"]} ${body}`);
      res.writeHead(401, { "content-type": "application/json" }).end('"Unauthorized"');
    });
    let connections = 0;
    server.on("connection", () => connections++);
    const body = Buffer.from('{"headers": {}, "request": null}');
    const calls = 20;
    const first = await postOnce(client.post, body);
    for (let i = 1; i < calls; i++) await postOnce(client.post, body);
    expect(seen).toEqual(Array(calls).fill(`POST /v1/authenticate application/json ${body.toString()}`));
    expect(first).toEqual({
      status: 401,
      contentType: "application/json",
      body: Buffer.from('"Unauthorized"'),
    });
    // One call at a time, many calls: connections are reused (undici may open a second while one is released).
    expect(connections).toBeLessThanOrEqual(2);
  });

  it("sends a user and password given in the URL as Basic authorization", async () => {
    const seen: (string | undefined)[] = [];
    const { client } = await serve(
      (req, res) => {
        seen.push(req.headers.authorization);
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      },
      { credentials: "old%20hook:p%40ss:word@" },
    );
    await postOnce(client.post, Buffer.from("{}"));
    expect(seen).toEqual([`Basic ${Buffer.from("old hook:p@ss:word").toString("base64")}`]);
  });

  it("gives up when no answer comes within the timeout", async () => {
    const { client } = await serve(() => undefined);
    await expect(postOnce(client.post, Buffer.from("{}"))).rejects.toMatchObject({ code: "SHADOW_TIMEOUT" });
  });

  it("gives up at the timeout when the headers come late and the body later still, each within it", async () => {
    const timeoutMs = 300;
    const { client } = await serve(
      (_req, res) => {
        setTimeout(
          () => {
            res.writeHead(200, { "content-type": "application/json" }).write("{");
            setTimeout(() => res.end("}"), (timeoutMs * 2) / 3);
          },
          (timeoutMs * 2) / 3,
        );
      },
      { timeoutMs },
    );
    await expect(postOnce(client.post, Buffer.from("{}"))).rejects.toMatchObject({ code: "SHADOW_TIMEOUT" });
  });

  it("gives up at the timeout on an answer whose body drips in, a byte at a time", async () => {
    const drips: NodeJS.Timeout[] = [];
    const { client } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).write("{");
      drips.push(setInterval(() => res.write(" "), 20));
    });
    try {
      await expect(postOnce(client.post, Buffer.from("{}"))).rejects.toMatchObject({
        code: "SHADOW_TIMEOUT",
      });
    } finally {
      drips.forEach(clearInterval);
    }
  });

  it("stops reading an answer larger than a webhook answer can be", async () => {
    const { client } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("x".repeat(MAX_SHADOW_ANSWER_BYTES + 1));
    });
    await expect(postOnce(client.post, Buffer.from("{}"))).rejects.toMatchObject({
      code: "UND_ERR_RES_EXCEEDED_MAX_SIZE",
    });
  });

  it("fails when nothing listens", async () => {
    const client = shadowClient("http://127.0.0.1:1/v1/authenticate", 500, 4);
    await expect(postOnce(client.post, Buffer.from("{}"))).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await client.close();
  });
});
