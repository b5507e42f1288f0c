import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "./manifests.js";

const hasYamllint = spawnSync("yamllint", ["--version"], { stdio: "ignore" }).status === 0;

describe.skipIf(!hasYamllint)(
  hasYamllint ? "yamllint" : "yamllint (skipped: install it with `apt-get install -y yamllint`)",
  () => {
    it("finds no warning or error in deploy/ under the repository's .yamllint.yaml", () => {
      // -s: warnings fail too; the configuration file is linted with the manifests.
      const run = spawnSync("yamllint", ["-s", "-f", "parsable", "deploy", ".yamllint.yaml"], {
        cwd: ROOT,
        encoding: "utf8",
      });
      expect(run.stdout + run.stderr).toBe("");
      expect(run.status).toBe(0);
    });
  },
);
