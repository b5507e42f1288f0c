import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bearerToken } from "../../src/core/bearer.js";

// The rule as a regular expression, for comparison: scheme in any case, blanks, one token, trailing blanks.
const RULE = /^bearer[ \t]+([^\s]+)[ \t]*$/i;
const ASCII_RULE = (value: string) => RULE.exec(value)?.[1];

describe("bearerToken", () => {
  it.each([
    ["Bearer abc.def.ghi", "abc.def.ghi"],
    ["bearer abc", "abc"],
    ["BEARER\tabc", "abc"],
    ["Bearer    abc  \t", "abc"],
    ["Bearer", undefined],
    ["Bearer ", undefined],
    ["Bearerabc", undefined],
    ["Basic abc", undefined],
    ["Bearer abc def", undefined],
    ["Bearer abc\ndef", undefined],
    [" Bearer abc", undefined],
    ["", undefined],
  ])("%j → %j", (value, expected) => {
    expect(bearerToken(value)).toBe(expected);
  });

  it("agrees with the regular expression on any ASCII header value", () => {
    const chars = fc.constantFrom(
      "B",
      "b",
      "e",
      "E",
      "a",
      "r",
      "R",
      " ",
      "\t",
      "\n",
      "x",
      ".",
      "-",
      "_",
      "1",
    );
    const values = fc.oneof(
      fc.string({ unit: chars, maxLength: 24 }),
      fc.string({ unit: chars, maxLength: 16 }).map((rest) => `Bearer${rest}`),
      fc.string({ unit: "grapheme-ascii", maxLength: 40 }).map((rest) => `bearer ${rest}`),
    );
    fc.assert(
      fc.property(values, (value) => {
        expect(bearerToken(value)).toBe(ASCII_RULE(value));
      }),
      { numRuns: Number(process.env.FC_NUM_RUNS ?? 2000) },
    );
  });
});
