import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

// vitest globalSetup: one scratch directory per run, for what test files make once and share (see
// test/support/run-scratch.ts: the pristine PGlite cluster, the rendered deploy examples), removed when the run ends.
let root: string | undefined;

/** Makes the run's scratch directory and hands its path to the test files. */
export async function setup(project: TestProject): Promise<void> {
  root = await mkdtemp(join(tmpdir(), "rolemapper-test-run-"));
  project.provide("runScratchDir", root);
}

/** Removes the scratch directory. */
export async function teardown(): Promise<void> {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
}
