import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  BUILD_INPUTS,
  RUNTIME_FROM_CONTEXT,
  contextCopies,
  parseDockerfile,
  type Stage,
} from "./docker-steps.js";
import { nodeRangeAccepts } from "./engines.js";
import { ROOT } from "./manifests.js";

const { args, stages } = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
const ignored = readFileSync(join(ROOT, ".dockerignore"), "utf8")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"));
const runtime = stages.at(-1)!;

function argsOf(stage: Stage, op: string): string[] {
  return stage.instructions.filter((i) => i.op === op).map((i) => i.args);
}

function stageRunning(pattern: RegExp): Stage | undefined {
  return stages.find((s) => argsOf(s, "RUN").some((run) => pattern.test(run)));
}

describe("the Dockerfile", () => {
  it("builds every stage from one slim image of a maintained Node LTS (22 or 24) that package.json accepts", () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const images = new Set(
      stages.map((s) => s.from.replace(/^\$\{(\w+)\}$/, (_, name: string) => args[name] ?? "")),
    );
    expect(images.size).toBe(1);
    const [image] = [...images];
    // Node 20 left maintenance in April 2026; 22 and 24 are LTS lines still maintained.
    const match = /^node:(22|24)((?:\.\d+)*)-(?:[a-z]+-slim|alpine[\d.]*)$/.exec(image!);
    expect(match, image).not.toBeNull();
    const version = `${match![1]}${match![2]}`.split(".");
    while (version.length < 3) version.push("0");
    // The image's Node, at its lowest patch, is one the engines range (and so every locked package) accepts.
    expect(nodeRangeAccepts(version.join("."))).toBe(true);
  });

  it("compiles with the dev dependencies in one stage and installs only the production ones in another", () => {
    const build = stageRunning(/npm run build/);
    expect(argsOf(build!, "RUN").some((run) => /npm ci(?!.*--omit=dev)/.test(run))).toBe(true);
    expect(contextCopies(build!)).toEqual(BUILD_INPUTS);
    const prodDeps = stageRunning(/npm ci .*--omit=dev/);
    expect(prodDeps).toBeDefined();
    const fromStages = argsOf(runtime, "COPY").filter((a) => a.includes("--from="));
    expect(fromStages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`--from=${prodDeps!.name} \\S*node_modules`)),
        expect.stringMatching(new RegExp(`--from=${build!.name} \\S*dist`)),
      ]),
    );
    expect(contextCopies(runtime)).toEqual(RUNTIME_FROM_CONTEXT);
  });

  it("runs the production start command as a numeric non-root user under an init process", () => {
    expect(argsOf(runtime, "ENV")).toContain("NODE_ENV=production");
    const user = argsOf(runtime, "USER").at(-1) ?? "";
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(":")[0])).toBeGreaterThan(0);
    expect(argsOf(runtime, "ENTRYPOINT").at(-1)).toMatch(/^\["\/usr\/bin\/tini", "--"\]$/);
    // node's own flags may come before the entry point (the benchmark's footprint reads them from here too).
    const cmd = JSON.parse(argsOf(runtime, "CMD").at(-1) ?? "[]") as string[];
    expect(cmd[0]).toBe("node");
    expect(cmd.at(-1)).toBe("dist/main.js");
    expect(cmd.slice(1, -1).every((flag) => flag.startsWith("--"))).toBe(true);
    expect(argsOf(runtime, "EXPOSE").join(" ").split(" ").sort()).toEqual(["50051", "8092", "8093"]);
  });

  it("keeps the build context to what the stages copy", () => {
    expect(ignored).toEqual(expect.arrayContaining([".git", "node_modules", "dist"]));
    for (const source of [...BUILD_INPUTS, ...RUNTIME_FROM_CONTEXT]) expect(ignored).not.toContain(source);
  });
});
