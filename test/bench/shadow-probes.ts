import { readFileSync } from "node:fs";

// The sidecar's own CPU time (user + system, from /proc): on a shared machine, where the stand-in of the previous
// webhook competes for the same cores, this is the figure that belongs to the sidecar alone.
export function cpuMicros(pid: number | undefined): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / 100) * 1e6;
}

/** The shadow mode's comparisons so far, by result, from the sidecar's metrics. */
export async function shadowComparisons(metricsPort: number): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const counts: Record<string, number> = {};
  for (const match of text.matchAll(/^rolemapper_shadow_comparisons_total\{result="(\w+)"\} (\d+)/gm)) {
    counts[match[1] as string] = Number(match[2]);
  }
  return counts;
}

/** The counts added between two readings of shadowComparisons. */
export function difference(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]));
}
