import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "./manifests.js";
import { tool } from "./tools.js";

const yamllint = tool("yamllint", "apt-get install -y yamllint");

describe.skipIf(yamllint.skip)(yamllint.title, () => {
  it("finds no warning or error in deploy/ under the repository's .yamllint.yaml", () => {
    expect(yamllint.present, "yamllint is not installed (.ci/run installs it)").toBe(true);
    // -s: warnings fail too; the configuration file is linted with the manifests.
    const run = spawnSync("yamllint", ["-s", "-f", "parsable", "deploy", ".yamllint.yaml"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    expect(run.stdout + run.stderr).toBe("");
    expect(run.status).toBe(0);
  });
});
