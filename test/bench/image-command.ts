import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDockerfile, type Stage } from "../deploy/docker-steps.js";
import { ROOT } from "./build.js";

/**
 * The arguments the image gives `node` (its runtime stage's CMD, flags included), so the benchmark starts the
 * sidecar exactly as the image does: the Dockerfile is the one place they are written.
 */
export function imageNodeArgs(): string[] {
  const cmd = runtimeStage().instructions.findLast((instruction) => instruction.op === "CMD");
  const args = cmd === undefined ? undefined : (JSON.parse(cmd.args) as unknown);
  if (!Array.isArray(args) || args[0] !== "node" || !args.every((arg) => typeof arg === "string"))
    throw new Error(`the Dockerfile's CMD is not ["node", ...]: ${cmd?.args}`);
  return args.slice(1) as string[];
}

/**
 * The variables the image's runtime stage sets (its `ENV KEY=value` lines), the C library's allocator settings
 * among them, but for the embedded store's data directory, a path of the image the benchmark's stores do not use.
 */
export function imageEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { op, args } of runtimeStage().instructions) {
    if (op !== "ENV") continue;
    for (const pair of args.split(" ")) {
      const [, key, value] = /^([A-Za-z_][A-Za-z0-9_]*)=(\S*)$/.exec(pair) ?? [];
      if (key === undefined || value === undefined)
        throw new Error(`the Dockerfile's ENV is not KEY=value: ${args}`);
      env[key] = value;
    }
  }
  delete env.ROLEMAPPING_DATA_DIR;
  return env;
}

function runtimeStage(): Stage {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const stage = stages.at(-1);
  if (stage === undefined) throw new Error("the Dockerfile has no stage");
  return stage;
}
