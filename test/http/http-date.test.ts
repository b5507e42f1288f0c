import { describe, expect, it } from "vitest";
import { httpDate } from "../../src/http/http-date.js";

describe("httpDate", () => {
  it.each([
    { seconds: 0, text: "Thu, 01 Jan 1970 00:00:00 GMT" },
    { seconds: Date.UTC(2026, 10, 29, 17, 0, 0) / 1000, text: "Sun, 29 Nov 2026 17:00:00 GMT" },
    { seconds: Date.UTC(2027, 1, 3, 4, 5, 6) / 1000, text: "Wed, 03 Feb 2027 04:05:06 GMT" },
    { seconds: Date.UTC(2026, 0, 1, 0, 0, 59) / 1000 + 0.999, text: "Thu, 01 Jan 2026 00:00:59 GMT" },
  ])("writes $seconds as $text", ({ seconds, text }) => {
    expect(httpDate(seconds)).toBe(text);
    // The form Hasura parses with `%a, %d %b %Y %T GMT`.
    expect(text).toMatch(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });
});
