import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

// What several test files would each make from the same inputs (a PGlite cluster, kubectl's renderings) is made
// once per run, by the first file that needs it, in the run's scratch directory (run-scratch-setup.ts).

declare module "vitest" {
  interface ProvidedContext {
    /** This run's scratch directory (test/support/run-scratch-setup.ts). */
    runScratchDir: string;
  }
}

/**
 * The path of `name` in this run's scratch directory, made by `make(path)` unless a test file made it already;
 * undefined when there is no run (a child process a test forks), where the caller makes its own.
 */
export async function madeOncePerRun(
  name: string,
  make: (path: string) => Promise<void>,
): Promise<string | undefined> {
  const root = await scratchDir();
  if (root === undefined) return undefined;
  const path = join(root, name);
  if (await exists(path)) return path;
  // Made aside and renamed into place: a test file running beside this one may be making it too.
  const building = await mkdtemp(join(root, "building-"));
  try {
    await make(join(building, name));
    await rename(join(building, name), path).catch((error: NodeJS.ErrnoException) => {
      if (!["EEXIST", "ENOTEMPTY"].includes(error.code ?? "")) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return path;
}

async function scratchDir(): Promise<string | undefined> {
  try {
    const { inject } = await import("vitest");
    return inject("runScratchDir");
  } catch {
    return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}
