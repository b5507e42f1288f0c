import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

let built = false;

/** `npm run build` once per benchmark run: the sidecar is measured as it ships, compiled into dist/. */
export function buildOnce(): void {
  if (built) return;
  const result = spawnSync("npm", ["run", "-s", "build"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
  built = true;
}
