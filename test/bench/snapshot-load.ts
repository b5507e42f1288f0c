import { startChild } from "./child.js";

/** Time and memory of loading and indexing one snapshot. */
export interface SnapshotLoadFigure {
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

/** Loads a snapshot of `grantRows` grants from PGlite in a fresh process (see snapshot-load-child.ts). */
export async function measureSnapshotLoad(grantRows: number): Promise<SnapshotLoadFigure> {
  const child = await startChild<SnapshotLoadFigure>("./snapshot-load-child.ts", {
    env: { BENCH_GRANT_ROWS: String(grantRows) },
    nodeFlags: ["--expose-gc", "--max-old-space-size=4096"],
    readyTimeoutMs: 300_000,
  });
  await child.stop();
  return child.info;
}
