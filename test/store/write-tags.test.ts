import { describe, expect, it } from "vitest";
import { WriteTags } from "../../src/store/write-tags.js";

describe("WriteTags", () => {
  it("gives each write a tag of its own, owned once the write succeeded", async () => {
    const tags = new WriteTags();
    let seen = "";
    await tags.run(async (tag) => (seen = tag));
    expect(seen.length).toBeLessThanOrEqual(64);
    expect(tags.isOwn(seen)).toBe(true);
    expect(tags.tag()).not.toBe(seen);
  });

  it("never owns a write that failed: it may still commit, and nobody applied it", async () => {
    const tags = new WriteTags();
    let seen = "";
    await expect(
      tags.run(async (tag) => {
        seen = tag;
        throw new Error("timed out");
      }),
    ).rejects.toThrow("timed out");
    expect(tags.isOwn(seen)).toBe(false);
  });

  it("owns nothing of another client, nor entries without a writer", async () => {
    const [mine, theirs] = [new WriteTags(), new WriteTags()];
    let tag = "";
    await theirs.run(async (t) => (tag = t));
    expect(mine.isOwn(tag)).toBe(false);
    expect(mine.isOwn(null)).toBe(false);
  });
});
