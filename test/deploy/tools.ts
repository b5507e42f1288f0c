import { spawnSync } from "node:child_process";

/**
 * Whether a command-line tool the deploy checks need is here. Locally a missing tool skips its checks, saying
 * how to install it; under CI=true (.ci/run) the checks run anyway and fail, since CI installs every tool.
 */
export function tool(command: string, install: string): { present: boolean; skip: boolean; title: string } {
  const present = spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
  const skip = !present && process.env.CI !== "true";
  return { present, skip, title: skip ? `${command} (skipped: install it with \`${install}\`)` : command };
}
