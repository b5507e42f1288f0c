import { describe, expect, it } from "vitest";
import { ThrottledWarning } from "../../src/observability/throttled-warning.js";

describe("ThrottledWarning", () => {
  // Times (ms) at which the cause recurs, and the occurrence counts of the lines written (one-minute interval).
  it.each([
    { name: "a single occurrence", at: [0], lines: [1] },
    { name: "a burst", at: [0, 1, 2, 3], lines: [1] },
    { name: "a recurrence just within the minute", at: [0, 59_999], lines: [1] },
    { name: "a recurrence a minute later", at: [0, 60_000], lines: [1, 1] },
    { name: "a steady stream", at: [0, 20_000, 40_000, 60_000, 80_000, 120_000], lines: [1, 3, 2] },
    { name: "a gap of hours", at: [0, 10_000_000, 10_000_001], lines: [1, 1] },
  ])("writes for $name: $lines", ({ at, lines }) => {
    const written: object[] = [];
    let now = 0;
    const warning = new ThrottledWarning(
      (fields) => written.push(fields),
      "some_event",
      "message",
      60_000,
      () => now,
    );
    for (const time of at) {
      now = time;
      warning.record();
    }
    expect(written).toEqual(lines.map((occurrences) => ({ event: "some_event", occurrences })));
  });
});
