import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it, vi } from "vitest";
import type { ShadowAnswer, ShadowPost } from "../../src/shadow/shadow-client.js";
import { ShadowMode, type ComparisonResult, type ShadowedCall } from "../../src/shadow/shadow-mode.js";
import { allowed } from "./allowed-result.js";

const call = (requestId = "r-1"): ShadowedCall => ({
  rawBody: Buffer.from('{"headers":{},"request":{"query":"{ sales_orders { id } }"}}'),
  requestId,
  result: allowed,
  reason: "allowed",
  status: 200,
});
const answer = (status: number, body: unknown): ShadowAnswer => ({
  status,
  contentType: "application/json",
  body: Buffer.from(JSON.stringify(body)),
});

/** A previous webhook whose calls wait until the test settles them. */
function heldShadow() {
  const calls: { body: Buffer; settle: (answer: ShadowAnswer | Error) => void }[] = [];
  const post: ShadowPost = (body, receiver) => {
    calls.push({ body, settle: (a) => (a instanceof Error ? receiver.failed(a) : receiver.answered(a)) });
  };
  return { calls, post };
}

function build(
  mode: "self" | "shadow",
  options: { sample?: number; maxInFlight?: number; maxBytesInFlight?: number; random?: () => number } = {},
) {
  const shadow = heldShadow();
  const results: ComparisonResult[] = [];
  const overLimit: string[] = [];
  const warn = vi.fn();
  const hook = new ShadowMode({
    post: shadow.post,
    sample: options.sample ?? 1,
    maxInFlight: options.maxInFlight ?? 32,
    maxBytesInFlight: options.maxBytesInFlight ?? 16 * 1024 * 1024,
    answer: mode,
    logger: { warn },
    onComparison: (result) => results.push(result),
    onOverLimit: () => overLimit.push("500"),
    ...(options.random ? { random: options.random } : {}),
  });
  const events: string[] = [];
  const sender = () => ({
    self: () => events.push("self"),
    relay: (status: number, type: string | undefined, body: Buffer) =>
      events.push(`relay ${status} ${type} ${body.toString()}`),
  });
  return { hook, shadow, results, overLimit, warn, events, sender };
}

describe("ShadowMode, answering itself", () => {
  it("sends its own answer before the previous webhook is even asked, then compares", async () => {
    const t = build("self");
    t.hook.answer(call(), t.sender());
    expect(t.events).toEqual(["self"]);
    expect(t.shadow.calls).toHaveLength(1);
    expect(t.shadow.calls[0]?.body.toString()).toBe(call().rawBody.toString());
    t.shadow.calls[0]?.settle(
      answer(200, { "X-Hasura-User-Id": "user:alice_example.com", "X-Hasura-Role": "sales" }),
    );
    await vi.waitFor(() => expect(t.results).toEqual(["agree"]));
    expect(t.warn).not.toHaveBeenCalled();
  });

  it("logs one shadow_diff line per disagreement, with both sides and no token", async () => {
    const t = build("self");
    t.hook.answer(
      { ...call("x".repeat(500)), rawBody: Buffer.from('{"headers":{"Authorization":"Bearer secret"}}') },
      t.sender(),
    );
    t.shadow.calls[0]?.settle(answer(200, { "X-Hasura-Role": "other_role" }));
    await vi.waitFor(() => expect(t.results).toEqual(["disagree"]));
    expect(t.warn).toHaveBeenCalledTimes(1);
    const [line] = t.warn.mock.calls[0] as [Record<string, unknown>];
    expect(line).toEqual({
      event: "shadow_diff",
      request_id: `${"x".repeat(128)}…`,
      user: "user:alice_example.com",
      operation_type: "query",
      root_fields: ["sales_orders"],
      self: { outcome: "allow", status: 200, role: "sales", reason: "allowed" },
      shadow: { outcome: "allow", status: 200, role: "other_role" },
    });
    expect(JSON.stringify(t.warn.mock.calls)).not.toContain("secret");
  });

  it("skips and counts a comparison past SHADOW_MAX_IN_FLIGHT, and asks again once one returns", async () => {
    const t = build("self", { maxInFlight: 2 });
    for (let i = 0; i < 3; i++) t.hook.answer(call(), t.sender());
    expect(t.events).toEqual(["self", "self", "self"]);
    expect(t.shadow.calls).toHaveLength(2);
    expect(t.results).toEqual(["skipped"]);
    t.shadow.calls[0]?.settle(answer(200, { "X-Hasura-Role": "sales" }));
    await vi.waitFor(() => expect(t.hook.pending).toBe(1));
    t.hook.answer(call(), t.sender());
    expect(t.shadow.calls).toHaveLength(3);
  });

  it("counts a failed call as an error and warns", async () => {
    const t = build("self");
    t.hook.answer(call(), t.sender());
    t.shadow.calls[0]?.settle(new Error("no answer within 2000 ms"));
    await vi.waitFor(() => expect(t.results).toEqual(["error"]));
    expect(t.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: "shadow_error" }),
      expect.any(String),
    );
    expect(t.hook.pending).toBe(0);
  });

  it("asks only the sampled share of requests", () => {
    const draws = [0.1, 0.5, 0.29, 0.9];
    const t = build("self", { sample: 0.3, random: () => draws.shift() ?? 1 });
    for (let i = 0; i < 4; i++) t.hook.answer(call(), t.sender());
    expect(t.events).toHaveLength(4);
    expect(t.shadow.calls).toHaveLength(2);
  });
});

describe("ShadowMode, answering with the previous webhook", () => {
  it("relays the previous webhook's status and body as received, and still compares", async () => {
    const t = build("shadow", { sample: 0 });
    t.hook.answer(call(), t.sender());
    expect(t.events).toEqual([]);
    t.shadow.calls[0]?.settle(answer(401, "Unauthorized"));
    await vi.waitFor(() => expect(t.events).toEqual(['relay 401 application/json "Unauthorized"']));
    expect(t.results).toEqual(["disagree"]);
  });

  it("answers 500 when the previous webhook fails", async () => {
    const t = build("shadow");
    t.hook.answer(call(), t.sender());
    t.shadow.calls[0]?.settle(new Error("connection refused"));
    await vi.waitFor(() => expect(t.events).toEqual(['relay 500 application/json {"error":"System error"}']));
    expect(t.results).toEqual(["error"]);
  });

  it("answers 500 at once past SHADOW_MAX_IN_FLIGHT, without asking, counted and warned once", async () => {
    const t = build("shadow", { maxInFlight: 2 });
    for (let i = 0; i < 4; i++) t.hook.answer(call(), t.sender());
    const systemError = 'relay 500 application/json {"error":"System error"}';
    expect(t.shadow.calls).toHaveLength(2);
    expect(t.events).toEqual([systemError, systemError]);
    expect(t.results).toEqual(["skipped", "skipped"]);
    expect(t.overLimit).toEqual(["500", "500"]);
    expect(t.warn).toHaveBeenCalledTimes(1);
    expect(t.warn).toHaveBeenCalledWith(
      expect.objectContaining({ event: "shadow_over_limit" }),
      expect.any(String),
    );
    t.shadow.calls[0]?.settle(answer(200, { "X-Hasura-Role": "sales" }));
    expect(t.hook.pending).toBe(1);
    t.hook.answer(call(), t.sender());
    expect(t.shadow.calls).toHaveLength(3);
    expect(t.events.slice(2)).toEqual(['relay 200 application/json {"X-Hasura-Role":"sales"}']);
  });

  it("answers 500 at once past SHADOW_MAX_IN_FLIGHT_BYTES of bodies in flight, but never refuses a body alone", () => {
    const t = build("shadow", { maxBytesInFlight: 1000 });
    const sized = (bytes: number) => ({ ...call(), rawBody: Buffer.alloc(bytes, " ") });
    t.hook.answer(sized(600), t.sender());
    t.hook.answer(sized(400), t.sender());
    t.hook.answer(sized(1), t.sender());
    expect(t.shadow.calls.map((c) => c.body.length)).toEqual([600, 400]);
    expect(t.events).toEqual(['relay 500 application/json {"error":"System error"}']);
    expect(t.overLimit).toEqual(["500"]);
    t.shadow.calls[0]?.settle(answer(401, "Unauthorized"));
    t.shadow.calls[1]?.settle(answer(401, "Unauthorized"));
    t.hook.answer(sized(5000), t.sender());
    expect(t.shadow.calls.map((c) => c.body.length)).toEqual([600, 400, 5000]);
  });
});

describe("ShadowMode, the bytes it holds", () => {
  it("skips a comparison past SHADOW_MAX_IN_FLIGHT_BYTES of bodies in flight", () => {
    const t = build("self", { maxBytesInFlight: 1000 });
    const sized = (bytes: number) => ({ ...call(), rawBody: Buffer.alloc(bytes, " ") });
    t.hook.answer(sized(900), t.sender());
    t.hook.answer(sized(200), t.sender());
    expect(t.shadow.calls).toHaveLength(1);
    expect(t.results).toEqual(["skipped"]);
  });

  it("keeps no reference to Hasura's body once the call is handed to the client", async () => {
    setFlagsFromString("--expose-gc");
    const collect = runInNewContext("gc") as () => void;
    // A client that lets go of the body at once (undici does when the call ends): only the comparison could hold it.
    const receivers: unknown[] = [];
    const hook = new ShadowMode({
      post: (_body, receiver) => receivers.push(receiver),
      sample: 1,
      maxInFlight: 32,
      maxBytesInFlight: 16 * 1024 * 1024,
      answer: "self",
      logger: { warn: vi.fn() },
      onComparison: () => undefined,
    });
    const held = ((): WeakRef<Buffer> => {
      const rawBody = Buffer.alloc(1024 * 1024, " ");
      hook.answer({ ...call(), rawBody }, { self: () => undefined, relay: () => undefined });
      return new WeakRef(rawBody);
    })();
    await vi.waitFor(async () => {
      collect();
      await new Promise((resolve) => setImmediate(resolve));
      // A boolean: a failed expectation naming the buffer would itself hold it.
      expect(held.deref() === undefined, "the body is still reachable").toBe(true);
    });
    expect(receivers).toHaveLength(1);
    expect(hook.pending).toBe(1);
  });
});
