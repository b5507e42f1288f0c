import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

// vitest globalSetup: one directory per run for the pristine PGlite cluster that test/support/pglite-template.ts
// builds on first use (so a run that starts no embedded store pays nothing), removed when the run ends.
let root: string | undefined;

/** Makes the run's template directory and hands its path to the test files. */
export async function setup(project: TestProject): Promise<void> {
  root = await mkdtemp(join(tmpdir(), "rolemapper-pglite-template-"));
  project.provide("pgliteTemplateRoot", root);
}

/** Removes the template directory. */
export async function teardown(): Promise<void> {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
}
