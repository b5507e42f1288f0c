import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { openPgliteClient } from "../../src/store/pglite-client.js";

// PGlite's initdb costs a few seconds of CPU per fresh data directory, against well under one to copy the cluster
// it produced. The cluster is made once per test run (by the first test file that needs it) and each sidecar gets
// a copy of its own: the same pristine state, isolated as before. Migrations still run on the copy at start.

declare module "vitest" {
  interface ProvidedContext {
    /** A directory for this run's pristine PGlite cluster (test/support/pglite-template-setup.ts). */
    pgliteTemplateRoot: string;
  }
}

let template: Promise<string | undefined> | undefined;

/**
 * Puts a pristine PGlite cluster into `dataDir`/pgdata (where the embedded store opens it), copied from this run's
 * template; does nothing when the run has no template directory (the store then runs initdb as in production).
 */
export async function seedPristineCluster(dataDir: string): Promise<void> {
  template ??= templateCluster();
  const source = await template;
  if (source === undefined) return;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // cp(1): about a thousand small files, copied some ten times faster than by fs.cp.
  await promisify(execFile)("cp", ["-R", source, join(dataDir, "pgdata")]);
}

async function templateCluster(): Promise<string | undefined> {
  const root = await templateRoot();
  if (root === undefined) return undefined;
  const cluster = join(root, "pgdata");
  if (await exists(join(cluster, "PG_VERSION"))) return cluster;
  // Built aside and renamed into place: a test file running beside this one may be building it too.
  const building = await mkdtemp(join(root, "building-"));
  try {
    const client = await openPgliteClient(join(building, "pgdata"));
    await client.close();
    await rename(join(building, "pgdata"), cluster).catch(async (error: NodeJS.ErrnoException) => {
      if (!["EEXIST", "ENOTEMPTY"].includes(error.code ?? "")) throw error;
    });
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return cluster;
}

// Outside a vitest worker (a child process a test forks) there is no run, hence no template.
async function templateRoot(): Promise<string | undefined> {
  try {
    const { inject } = await import("vitest");
    return inject("pgliteTemplateRoot");
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
