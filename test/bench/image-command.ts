import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseDockerfile } from "../deploy/docker-steps.js";
import { ROOT } from "./build.js";

/**
 * The arguments the image gives `node` (its runtime stage's CMD, flags included), so the benchmark starts the
 * sidecar exactly as the image does: the Dockerfile is the one place they are written.
 */
export function imageNodeArgs(): string[] {
  const { stages } = parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8"));
  const cmd = stages.at(-1)?.instructions.findLast((instruction) => instruction.op === "CMD");
  const args = cmd === undefined ? undefined : (JSON.parse(cmd.args) as unknown);
  if (!Array.isArray(args) || args[0] !== "node" || !args.every((arg) => typeof arg === "string"))
    throw new Error(`the Dockerfile's CMD is not ["node", ...]: ${cmd?.args}`);
  return args.slice(1) as string[];
}
