import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";

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
 * template; false, and nothing done, when the run has no template directory (the store then runs initdb).
 */
export async function seedPristineCluster(dataDir: string): Promise<boolean> {
  const source = await preparePristineCluster();
  if (source === undefined) return false;
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // cp(1): about a thousand small files, copied some ten times faster than by fs.cp.
  await promisify(execFile)("cp", ["-R", source, join(dataDir, "pgdata")]);
  return true;
}

/**
 * Makes this run's pristine cluster now if no test file has yet (to overlap it with other work); resolves with
 * its path, or undefined when the run has no template directory.
 */
export function preparePristineCluster(): Promise<string | undefined> {
  template ??= templateCluster();
  return template;
}

/**
 * A fresh, empty PGlite database (as `openPgliteClient(undefined)` opens in memory): on a copy of the pristine
 * cluster, removed again on close; in memory when the run has no template.
 */
export async function openPristinePglite(): Promise<SqlClient> {
  const copy = await copyPristineCluster();
  if (copy === undefined) return openPgliteClient(undefined);
  const client = await openPgliteClient(copy.dataDir);
  return {
    query: (text, params) => client.query(text, params),
    transaction: (work) => client.transaction(work),
    async close() {
      try {
        await client.close();
      } finally {
        await copy.remove();
      }
    },
  };
}

/** A copy of the pristine cluster of its own (PGlite's `dataDir`), for a test that opens PGlite itself. */
export interface PristineCopy {
  readonly dataDir: string;
  /** Removes the copy (once its database is closed). */
  remove(): Promise<void>;
}

/** Copies the pristine cluster into a temporary directory; undefined when the run has no template. */
export async function copyPristineCluster(): Promise<PristineCopy | undefined> {
  const dir = await mkdtemp(join(tmpdir(), "rolemapper-pglite-"));
  const remove = () => rm(dir, { recursive: true, force: true });
  if (!(await seedPristineCluster(dir))) {
    await remove();
    return undefined;
  }
  return { dataDir: join(dir, "pgdata"), remove };
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
