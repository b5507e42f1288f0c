import { describe, expect, it } from "vitest";
import { parseRetryAfter } from "../../src/identity/http-retry.js";

const withHeader = (value?: string) =>
  new Response(null, { headers: value === undefined ? {} : { "retry-after": value } });

describe("Retry-After", () => {
  it.each([
    ["3", 3000],
    ["0", 0],
    [" 10 ", 10_000],
    ["Thu, 01 Jan 2026 00:00:30 GMT", 30_000],
    ["Thu, 01 Jan 2026 00:00:00 GMT", 0],
    ["soon", undefined],
    ["-1", undefined],
    [undefined, undefined],
  ])("%s → %s ms", (value, expected) => {
    expect(parseRetryAfter(withHeader(value), Date.parse("2026-01-01T00:00:00Z"))).toBe(expected);
  });
});
