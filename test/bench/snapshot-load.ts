import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openTestDatabase, postgresAvailable } from "../support/databases.js";
import { startChild } from "./child.js";

/** Time and memory of loading and indexing one snapshot, in a process that did nothing before. */
export interface SnapshotLoadFigure {
  readonly store: SnapshotStore;
  readonly grantRows: number;
  readonly roles: number;
  readonly loadMs: number;
  readonly indexMs: number;
  readonly totalMs: number;
  readonly rssBeforeMb: number;
  readonly rssAfterMb: number;
  readonly rssPeakMb: number;
  readonly snapshotHeapMb: number;
}

/** Where the grants are loaded from: the embedded store's data directory, or a PostgreSQL server. */
export type SnapshotStore = "pglite" | "postgres";

/** The stores measured on this machine: PostgreSQL only where a server answers. */
export async function snapshotStores(): Promise<SnapshotStore[]> {
  return (await postgresAvailable()) ? ["pglite", "postgres"] : ["pglite"];
}

/**
 * Seeds `grantRows` grants into a fresh store in one process, then loads them in another (see
 * snapshot-load-child.ts): the figures are those of a sidecar restarting on an existing mapping.
 */
export async function measureSnapshotLoad(
  store: SnapshotStore,
  grantRows: number,
): Promise<SnapshotLoadFigure> {
  const database = store === "postgres" ? await openTestDatabase("postgres") : undefined;
  const dir = store === "pglite" ? await mkdtemp(join(tmpdir(), "rolemapper-snapshot-")) : undefined;
  const target = database?.url ?? dir!;
  try {
    const phase = async (name: "seed" | "load") => {
      const child = await startChild<Omit<SnapshotLoadFigure, "store">>("./snapshot-load-child.ts", {
        env: {
          BENCH_PHASE: name,
          BENCH_STORE: store,
          BENCH_TARGET: target,
          BENCH_GRANT_ROWS: String(grantRows),
        },
        nodeFlags: ["--expose-gc", "--max-old-space-size=4096"],
        readyTimeoutMs: 600_000,
      });
      await child.stop();
      return child.info;
    };
    await phase("seed");
    return { store, ...(await phase("load")) };
  } finally {
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
