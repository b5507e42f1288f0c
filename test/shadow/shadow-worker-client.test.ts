import { once } from "node:events";
import type { ServerResponse } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import {
  MAX_SHADOW_ANSWER_BYTES,
  type ShadowAnswer,
  type ShadowPost,
} from "../../src/shadow/shadow-client.js";
import {
  RESTART_INTERVAL_MS,
  shadowWorkerClient,
  type ShadowWorkerClient,
} from "../../src/shadow/shadow-worker-client.js";
import { startAnsweringServer, type AnsweringServer, type Answerer } from "./answering-server.js";

let peer: AnsweringServer | undefined;
let client: ShadowWorkerClient | undefined;

type Ended = { answer: ShadowAnswer } | { error: Error & { code?: string } };

// One call, as a promise of how it ended: the client reports to a receiver.
const call = (post: ShadowPost, body: string) =>
  new Promise<Ended>((resolve) =>
    post(Buffer.from(body), {
      answered: (answer) => resolve({ answer }),
      failed: (error) => resolve({ error }),
    }),
  );

const errorLines: object[] = [];
const logger = { error: (fields: object) => errorLines.push(fields) };

async function serve(
  handle: Answerer,
  // Far above a call's time on a loaded machine: only the timeout's own test meets it.
  { timeoutMs = 10_000, credentials = "", now = Date.now, gatherMs = 0 } = {},
) {
  const answering = await startAnsweringServer(handle, credentials);
  peer = answering;
  client = shadowWorkerClient({ url: answering.url, timeoutMs, connections: 8, gatherMs, logger, now });
  return { client, server: answering.server };
}

afterEach(async () => {
  errorLines.length = 0;
  await client?.close();
  client = undefined;
  await peer?.close();
  peer = undefined;
});

describe("shadowWorkerClient", () => {
  it("posts the body as given from its own thread and returns status, type and body as received", async () => {
    const seen: string[] = [];
    const { client } = await serve((req, res, body) => {
      seen.push(`${req.method} ${req.url} ${req.headers["content-type"]} ${body}`);
      res.writeHead(401, { "content-type": "application/json; charset=utf-8" }).end('"Unauthorized"');
    });
    const body = '{"headers": {}, "request": null}';
    expect(await call(client.post, body)).toEqual({
      answer: {
        status: 401,
        contentType: "application/json; charset=utf-8",
        body: Buffer.from('"Unauthorized"'),
      },
    });
    expect(seen).toEqual([`POST /v1/authenticate application/json ${body}`]);
    expect(client.worker?.threadId).toBeGreaterThan(0);
  });

  it("returns an answer without a content type as such", async () => {
    const { client } = await serve((_req, res) => res.writeHead(204).end());
    expect(await call(client.post, "{}")).toEqual({
      answer: { status: 204, contentType: undefined, body: Buffer.alloc(0) },
    });
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
    expect(await call(client.post, "{}")).toMatchObject({ answer: { status: 200 } });
    expect(seen).toEqual([`Basic ${Buffer.from("old hook:p@ss:word").toString("base64")}`]);
  });

  it("fails a call when no answer comes within the timeout", async () => {
    const { client } = await serve(() => undefined, { timeoutMs: 50 });
    expect(await call(client.post, "{}")).toMatchObject({ error: { code: "SHADOW_TIMEOUT" } });
    expect(errorLines).toEqual([]);
  });

  it("fails a call whose answer is larger than a webhook answer can be", async () => {
    const { client } = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end("x".repeat(MAX_SHADOW_ANSWER_BYTES + 1));
    });
    expect(await call(client.post, "{}")).toMatchObject({
      error: { code: "UND_ERR_RES_EXCEEDED_MAX_SIZE" },
    });
  });

  it.each([
    ["each event-loop turn", 0],
    ["every 10 ms", 10],
  ])("gives each of many calls its own answer, calls and answers gathered %s", async (_, gatherMs) => {
    const { client } = await serve(
      (_req, res, body) => {
        const { n } = JSON.parse(body) as { n: number };
        // Answered out of order, some fast and some later, allowed and denied.
        setImmediate(() =>
          res
            .writeHead(n % 3 === 0 ? 401 : 200, { "content-type": `application/json; n=${n}` })
            .end(JSON.stringify({ echo: n, pad: "y".repeat(n % 7) })),
        );
      },
      { gatherMs },
    );
    const calls = 300;
    const asked = Array.from({ length: calls }, (_, n) => n);
    // Half in one turn, half spread over later turns.
    const first = asked.slice(0, calls / 2).map((n) => call(client.post, JSON.stringify({ n })));
    const later: Promise<Ended>[] = [];
    for (const n of asked.slice(calls / 2)) {
      await new Promise((resolve) => setImmediate(resolve));
      later.push(call(client.post, JSON.stringify({ n })));
    }
    const ended = await Promise.all([...first, ...later]);
    expect(
      ended.map((end) => {
        if (!("answer" in end)) return end.error.message;
        const { status, contentType, body } = end.answer;
        return `${status} ${contentType} ${body.toString()}`;
      }),
    ).toEqual(
      asked.map(
        (n) =>
          `${n % 3 === 0 ? 401 : 200} application/json; n=${n} ${JSON.stringify({ echo: n, pad: "y".repeat(n % 7) })}`,
      ),
    );
  });

  it("fails the calls in flight when its thread dies, logs it once, and starts a new thread a second later", async () => {
    let time = 0;
    const held: ServerResponse[] = [];
    const received: string[] = [];
    const { client, server } = await serve(
      (_req, res, body) => {
        received.push(body);
        if (body === '"hold"') held.push(res);
        else res.writeHead(200, { "content-type": "application/json" }).end(body);
      },
      { now: () => time },
    );
    expect(await call(client.post, '"before"')).toMatchObject({ answer: { status: 200 } });
    const first = client.worker;
    const inFlight = [call(client.post, '"hold"'), call(client.post, '"hold"')];
    await expect.poll(() => held.length).toBe(2);
    await first?.terminate();
    expect(await Promise.all(inFlight)).toEqual([
      { error: expect.objectContaining({ code: "SHADOW_WORKER_STOPPED" }) },
      { error: expect.objectContaining({ code: "SHADOW_WORKER_STOPPED" }) },
    ]);
    expect(errorLines).toEqual([expect.objectContaining({ event: "shadow_worker_failed", calls_failed: 2 })]);
    expect(client.worker).toBeUndefined();
    // Within a second of the last start: failed without asking.
    expect(await call(client.post, '"too soon"')).toMatchObject({
      error: { code: "SHADOW_WORKER_RESTARTING" },
    });
    time += RESTART_INTERVAL_MS;
    expect(await call(client.post, '"after"')).toEqual({
      answer: { status: 200, contentType: "application/json", body: Buffer.from('"after"') },
    });
    expect(client.worker).toBeDefined();
    expect(client.worker).not.toBe(first);
    expect(received).toEqual(['"before"', '"hold"', '"hold"', '"after"']);
    expect(errorLines).toHaveLength(1);
    for (const res of held) res.destroy();
    server.closeAllConnections();
  });

  it("answers the calls in flight at close, then ends its thread; later calls fail", async () => {
    const held: ServerResponse[] = [];
    const { client } = await serve((_req, res) => held.push(res));
    const worker = client.worker;
    if (worker === undefined) throw new Error("no thread started");
    const exited = once(worker, "exit");
    const inFlight = call(client.post, "{}");
    await expect.poll(() => held.length).toBe(1);
    const closed = client.close();
    held[0]?.writeHead(200, { "content-type": "application/json" }).end('{"late": true}');
    expect(await inFlight).toMatchObject({ answer: { status: 200, body: Buffer.from('{"late": true}') } });
    await closed;
    await exited;
    expect(client.worker).toBeUndefined();
    expect(await call(client.post, "{}")).toMatchObject({ error: { code: "SHADOW_CLIENT_CLOSED" } });
    expect(errorLines).toEqual([]);
  });
});
