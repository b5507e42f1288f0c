import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, fixedShapeLogger } from "../../src/logger.js";
import type { ShadowPost } from "../../src/shadow/shadow-client.js";
import { ShadowMode, type ShadowedCall } from "../../src/shadow/shadow-mode.js";
import { allowed } from "./allowed-result.js";

const TOKEN = "eyJhbGciOiJSUzI1NiJ9.c2VjcmV0LWNsYWltcw.c2lnbmF0dXJl";

/** The real logger, its lines parsed as they are written. */
function capturedLogger() {
  const lines: Record<string, unknown>[] = [];
  const text: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text.push(chunk.toString());
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger("warn", stream), lines, text };
}

/** Every key of a parsed line, nested ones as parent.key. */
function keysOf(value: unknown, prefix = ""): string[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([key, inner]) => [
    `${prefix}${key}`,
    ...keysOf(inner, `${prefix}${key}.`),
  ]);
}

const SHADOW_DIFF_KEYS = [
  "level",
  "time",
  "service",
  "event",
  "request_id",
  "user",
  "operation_type",
  "root_fields",
  "self",
  "self.outcome",
  "self.status",
  "self.role",
  "self.reason",
  "shadow",
  "shadow.outcome",
  "shadow.status",
  "shadow.role",
  "msg",
];

describe("the shadow mode's lines on the fixed-shape logger", () => {
  it("carry only the fields named in code, never the token in Hasura's body or in the previous answer", async () => {
    const { logger, lines, text } = capturedLogger();
    const body = {
      headers: { Authorization: `Bearer ${TOKEN}`, token: TOKEN },
      request: { query: "{ sales_orders { id } }" },
    };
    const post: ShadowPost = (_body, receiver) =>
      receiver.answered({
        status: 200,
        contentType: "application/json",
        body: Buffer.from(JSON.stringify({ "X-Hasura-Role": "other", token: TOKEN, authorization: TOKEN })),
      });
    const mode = new ShadowMode({
      post,
      sample: 1,
      maxInFlight: 4,
      maxBytesInFlight: 1024 * 1024,
      answer: "self",
      logger: fixedShapeLogger(logger),
      onComparison: () => undefined,
    });
    const call: ShadowedCall = {
      rawBody: Buffer.from(JSON.stringify(body)),
      requestId: "r-1",
      result: allowed,
      reason: "allowed",
      status: 200,
    };
    mode.answer(call, { self: () => undefined, relay: () => undefined });
    await expect.poll(() => lines.length).toBe(1);
    expect(lines[0]).toMatchObject({ event: "shadow_diff", shadow: { role: "other" } });
    expect(keysOf(lines[0]).sort()).toEqual([...SHADOW_DIFF_KEYS].sort());
    expect(text.join("")).not.toContain(TOKEN);
  });

  it("still redacts the secrets' keys at the top of a line", async () => {
    const { logger, text } = capturedLogger();
    fixedShapeLogger(logger).warn(
      { token: TOKEN, authorization: TOKEN, password: TOKEN, secret: TOKEN },
      "x",
    );
    await expect.poll(() => text.length).toBe(1);
    expect(text[0]).not.toContain(TOKEN);
    expect(text[0]).toContain('"token":"[redacted]"');
  });
});
