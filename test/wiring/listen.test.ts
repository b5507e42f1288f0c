import { once } from "node:events";
import type { ServerResponse } from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { listen, type Listening } from "../../src/wiring/listen.js";

// What a client sees of a listener being closed, over raw connections. The listener's timers run on a fake
// clock, so "however late" means the whole grace, not however slow the machine happens to be.
const REQUEST = "POST /v1/authenticate HTTP/1.1\r\nHost: sidecar\r\nContent-Length: 2\r\n\r\n{}";
const OK = /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/;

/** A raw connection to the listener, accepted by it once this resolves. */
interface RawClient {
  /** Sends the request and resolves with the next complete answer. */
  ask(): Promise<string>;
}

async function connect(listening: Listening): Promise<RawClient> {
  const accepted = once(listening.server, "connection");
  const socket = net.connect(listening.port, "127.0.0.1");
  let received = "";
  let answered = (_text: string) => {};
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
    if (received.endsWith("ok")) answered(received);
  });
  // A reset or a close before the answer ends the wait with what came, so that the assertion shows it.
  socket.on("error", (error: NodeJS.ErrnoException) => answered(`${received}[${error.code}]`));
  socket.on("close", () => answered(`${received}[closed]`));
  await accepted;
  return {
    ask() {
      received = "";
      const answer = new Promise<string>((resolve) => (answered = resolve));
      socket.write(REQUEST);
      return answer;
    },
  };
}

const answerOk = (_req: unknown, res: ServerResponse) => res.end("ok");

afterEach(() => {
  vi.useRealTimers();
});

describe("a listener being closed", () => {
  it("answers the request of a connection accepted before close(), however late within the grace it comes", async () => {
    const listening = await listen(answerOk, "127.0.0.1", 0);
    const late = await connect(listening);
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    const closed = listening.close(10_000);
    vi.advanceTimersByTime(9_999);
    expect(await late.ask()).toMatch(OK);
    vi.advanceTimersByTime(1);
    await closed;
  });

  it("refuses new connections as soon as close() begins", async () => {
    const listening = await listen(answerOk, "127.0.0.1", 0);
    const closed = listening.close(1_000);
    const attempt = once(net.connect(listening.port, "127.0.0.1"), "connect").then(
      () => "connected",
      (error: NodeJS.ErrnoException) => error.code,
    );
    expect(await attempt).toBe("ECONNREFUSED");
    await closed;
  });
});
