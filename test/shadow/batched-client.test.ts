import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { batchedClient } from "../../src/shadow/batched-client.js";
import { MAX_SHADOW_ANSWER_BYTES, type ShadowAnswer, type ShadowPost } from "../../src/shadow/shadow-call.js";

const servers: (Server | TcpServer)[] = [];
const clients: { close(): Promise<void> }[] = [];

const postOnce = (post: ShadowPost, body: Buffer | string) =>
  new Promise<ShadowAnswer>((answered, failed) => post(Buffer.from(body), { answered, failed }));

afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  for (const server of servers.splice(0)) {
    if ("closeAllConnections" in server) server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function client(port: number, { timeoutMs = 300, connections = 4, credentials = "" } = {}) {
  const created = batchedClient(
    `http://${credentials}127.0.0.1:${port}/v1/authenticate`,
    timeoutMs,
    connections,
  );
  clients.push(created);
  return created;
}

async function listen(server: Server | TcpServer): Promise<number> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

// A node:http server; `handle` gets the request's body as text.
async function serve(handle: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const connections: Socket[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => handle(req, res, Buffer.concat(chunks).toString()));
  });
  server.on("connection", (socket) => connections.push(socket));
  return { port: await listen(server), connections, server };
}

// A TCP server answering each request (whatever its bytes) with `answer(socket, index)`, for answers node:http
// would not send: split anywhere, closed mid-way, HTTP/1.0.
async function serveRaw(answer: (socket: Socket, index: number) => void) {
  let requests = 0;
  let connections = 0;
  const server = createTcpServer((socket) => {
    connections++;
    socket.on("data", () => answer(socket, requests++));
    socket.on("error", () => undefined);
  });
  return { port: await listen(server), requests: () => requests, connections: () => connections };
}

const OK_ROLE = '{"X-Hasura-Role":"user"}';

describe("batchedClient", () => {
  it("posts each body as given, the calls made together answered over kept-alive connections", async () => {
    const seen: string[] = [];
    const { port, connections } = await serve((req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers["content-type"]} ${req.headers.host} ${body}`);
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ "X-Hasura-Role": body }));
    });
    const { post } = client(port);
    const bodies = ['{"a":1}', '{"request":null}', '{"é":"ü"}'];
    const answers = await Promise.all(bodies.map((body) => postOnce(post, body)));
    expect(answers.map((answer) => [answer.status, answer.contentType, answer.body.toString()])).toEqual(
      bodies.map((body) => [200, "application/json", JSON.stringify({ "X-Hasura-Role": body })]),
    );
    expect(seen.sort()).toEqual(
      bodies.map((body) => `POST /v1/authenticate application/json 127.0.0.1:${port} ${body}`).sort(),
    );
    for (let i = 0; i < 10; i++) await postOnce(post, "{}");
    expect(connections.length).toBeLessThanOrEqual(bodies.length);
  });

  it("sends a user and password given in the URL as Basic authorization", async () => {
    const seen: (string | undefined)[] = [];
    const { port } = await serve((req, res) => {
      seen.push(req.headers.authorization);
      res.end("{}");
    });
    await postOnce(client(port, { credentials: "old%20hook:p%40ss:word@" }).post, "{}");
    expect(seen).toEqual([`Basic ${Buffer.from("old hook:p@ss:word").toString("base64")}`]);
  });

  it("reads chunked answers, and answers whose bytes come one at a time", async () => {
    const raw =
      "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n" +
      `4\r\n${OK_ROLE.slice(0, 4)}\r\n${(OK_ROLE.length - 4).toString(16)}\r\n${OK_ROLE.slice(4)}\r\n0\r\n\r\n`;
    const { port } = await serveRaw((socket) => {
      for (const byte of raw) socket.write(byte);
    });
    const { post } = client(port, { timeoutMs: 2_000 });
    const answer = await postOnce(post, "{}");
    expect([answer.status, answer.contentType, answer.body.toString()]).toEqual([
      200,
      "application/json",
      OK_ROLE,
    ]);
    expect((await postOnce(post, "{}")).body.toString()).toBe(OK_ROLE);
  });

  it("reads an HTTP/1.0 answer to the connection's close, then opens a new connection", async () => {
    const raw = serveRaw((socket) => socket.end(`HTTP/1.0 401 Unauthorized\r\n\r\nUnauthorized`));
    const { port, connections } = await raw;
    const { post } = client(port);
    for (let i = 0; i < 3; i++) expect((await postOnce(post, "{}")).body.toString()).toBe("Unauthorized");
    expect(connections()).toBe(3);
  });

  it("does not reuse a connection the answer closes", async () => {
    const { port, connections } = await serve((_req, res) =>
      res.writeHead(200, { connection: "close" }).end("{}"),
    );
    const { post } = client(port);
    for (let i = 0; i < 3; i++) expect((await postOnce(post, "{}")).status).toBe(200);
    expect(connections.length).toBe(3);
  });

  it("fails a call whose connection is reset mid-answer; the next call gets a new connection", async () => {
    const { port } = await serveRaw((socket, index) => {
      if (index === 0)
        socket.write("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{", () => socket.resetAndDestroy());
      else socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${OK_ROLE.length}\r\n\r\n${OK_ROLE}`);
    });
    const { post } = client(port);
    await expect(postOnce(post, "{}")).rejects.toThrow();
    expect((await postOnce(post, "{}")).body.toString()).toBe(OK_ROLE);
  });

  it("opens a new connection when the previous service closed an idle one", async () => {
    const { port, connections } = await serve((_req, res) => res.end("{}"));
    const { post } = client(port, { connections: 1 });
    await postOnce(post, "{}");
    connections[0]!.destroy();
    await vi.waitFor(() => expect(connections[0]!.closed).toBe(true));
    expect((await postOnce(post, "{}")).status).toBe(200);
    expect(connections.length).toBe(2);
  });

  it("gives up when no answer comes within the timeout, and closes that connection", async () => {
    const { port, connections } = await serve(() => undefined);
    await expect(postOnce(client(port).post, "{}")).rejects.toMatchObject({ code: "SHADOW_TIMEOUT" });
    await vi.waitFor(() => expect(connections[0]!.closed).toBe(true));
  });

  it("gives up at the timeout on an answer whose body drips in, a byte at a time", async () => {
    const drips: NodeJS.Timeout[] = [];
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" }).write("{");
      drips.push(setInterval(() => res.write(" "), 20));
    });
    try {
      await expect(postOnce(client(port).post, "{}")).rejects.toMatchObject({ code: "SHADOW_TIMEOUT" });
    } finally {
      drips.forEach(clearInterval);
    }
  });

  it("stops reading an answer larger than a webhook answer can be", async () => {
    const { port } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("x".repeat(MAX_SHADOW_ANSWER_BYTES + 1));
    });
    await expect(postOnce(client(port).post, "{}")).rejects.toMatchObject({
      code: "SHADOW_ANSWER_TOO_LARGE",
    });
  });

  it("fails on bytes that are not an HTTP answer", async () => {
    const { port } = await serveRaw((socket) => socket.write("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    await expect(postOnce(client(port).post, "{}")).rejects.toMatchObject({ code: "SHADOW_BAD_ANSWER" });
  });

  it("fails when nothing listens", async () => {
    await expect(postOnce(client(1).post, "{}")).rejects.toMatchObject({ code: "ECONNREFUSED" });
  });

  it("opens at most `connections`; the other calls wait for one, within their deadline", async () => {
    const held: ServerResponse[] = [];
    const { port, connections } = await serve((_req, res) => held.push(res));
    const { post } = client(port, { connections: 2, timeoutMs: 5_000 });
    const answers = Array.from({ length: 5 }, () => postOnce(post, "{}"));
    await vi.waitFor(() => expect(held.length).toBe(2));
    while (held.length > 0) held.shift()!.end("{}");
    await vi.waitFor(() => expect(held.length).toBe(2));
    while (held.length > 0) held.shift()!.end("{}");
    await vi.waitFor(() => expect(held.length).toBe(1));
    held.shift()!.end("{}");
    expect((await Promise.all(answers)).map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200]);
    expect(connections.length).toBe(2);
  });

  it("times out a call still waiting for a connection", async () => {
    const { port } = await serve(() => undefined);
    const { post } = client(port, { connections: 1 });
    const results = await Promise.allSettled([postOnce(post, "{}"), postOnce(post, "{}")]);
    expect(results.map((result) => result.status === "rejected" && result.reason.code)).toEqual([
      "SHADOW_TIMEOUT",
      "SHADOW_TIMEOUT",
    ]);
  });

  it("at close, sends what is waiting and lets the calls in flight end; later calls fail", async () => {
    const held: ServerResponse[] = [];
    const { port } = await serve((_req, res) => held.push(res));
    const created = batchedClient(`http://127.0.0.1:${port}/v1/authenticate`, 5_000, 4);
    const answer = postOnce(created.post, "{}");
    const closed = created.close();
    await vi.waitFor(() => expect(held.length).toBe(1));
    held[0]!.end("{}");
    expect((await answer).status).toBe(200);
    await closed;
    await expect(postOnce(created.post, "{}")).rejects.toThrow("closed");
  });
});
