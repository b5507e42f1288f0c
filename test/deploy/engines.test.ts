import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ENGINES_NODE, nodeRangeAccepts, semver } from "./engines.js";
import { ROOT } from "./manifests.js";

interface Lockfile {
  packages: Record<string, { engines?: { node?: string } | string[] }>;
}

const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as Lockfile;

describe("package.json engines", () => {
  it("is recorded the same in the lockfile", () => {
    expect((lock.packages[""]?.engines as { node?: string } | undefined)?.node).toBe(ENGINES_NODE);
  });

  it("admits only Node versions every locked package accepts", () => {
    const refused = Object.entries(lock.packages)
      .filter(([path]) => path !== "")
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range === undefined || semver.subset(ENGINES_NODE, range) ? [] : [`${path}: ${range}`];
      });
    expect(refused).toEqual([]);
  });

  it("admits the Node this runs on, which CI and the development machines use", () => {
    expect(nodeRangeAccepts(process.versions.node)).toBe(true);
  });

  it("refuses the Node releases the lockfile's tools cannot run on", () => {
    expect(nodeRangeAccepts("20.11.0")).toBe(false);
    expect(nodeRangeAccepts("22.12.0")).toBe(false);
  });
});
