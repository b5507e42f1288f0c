import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./manifests.js";

/** The two functions of npm's own range parser these checks use (semver, a dev dependency without types). */
interface Semver {
  satisfies(version: string, range: string): boolean;
  subset(sub: string, dom: string): boolean;
}

/** npm's range semantics, from the semver package npm itself uses. */
export const semver = createRequire(import.meta.url)("semver") as Semver;

/** package.json's engines.node. */
export const ENGINES_NODE = (
  JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string } }
).engines.node;

/** True when package.json's engines range accepts this Node version. */
export function nodeRangeAccepts(version: string): boolean {
  return semver.satisfies(version, ENGINES_NODE);
}
