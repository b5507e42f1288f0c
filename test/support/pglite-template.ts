import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { madeOncePerRun } from "./run-scratch.js";

// PGlite's initdb costs a few seconds of CPU per fresh data directory, against well under one to copy the cluster
// it produced. The cluster is made once per test run (see run-scratch.ts) and each sidecar gets a copy of its
// own: the same pristine state, isolated as before. Migrations still run on the copy at start.

let template: Promise<string | undefined> | undefined;

/**
 * Puts a pristine PGlite cluster into `dataDir`/pgdata (where the embedded store opens it), copied from this run's
 * template; false, and nothing done, outside a test run (the store then runs initdb).
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
 * its path, or undefined outside a test run.
 */
export function preparePristineCluster(): Promise<string | undefined> {
  template ??= templateCluster();
  return template;
}

/**
 * A fresh, empty PGlite database (as `openPgliteClient(undefined)` opens in memory): on a copy of the pristine
 * cluster, removed again on close; in memory outside a test run.
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

/** Copies the pristine cluster into a temporary directory; undefined outside a test run. */
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
  return madeOncePerRun("pglite-cluster", async (path) => {
    const client = await openPgliteClient(path);
    await client.close();
  });
}
