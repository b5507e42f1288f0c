import { readFileSync } from "node:fs";

// The sidecar's own CPU time (user + system, from /proc): on a shared machine, where the stand-in of the previous
// webhook competes for the same cores, this is the figure that belongs to the sidecar alone.
export function cpuMicros(pid: number | undefined): number {
  return statCpuMicros(`/proc/${pid}/stat`);
}

/**
 * The CPU time of the sidecar's main thread alone (the thread whose id is the process's: its event loop, which
 * answers Hasura), beside the whole process's (every thread, those ended included).
 */
export function threadCpuMicros(pid: number | undefined): { main: number; process: number } {
  return { main: statCpuMicros(`/proc/${pid}/task/${pid}/stat`), process: cpuMicros(pid) };
}

/** CPU per request between two readings of threadCpuMicros, in µs, rounded to a tenth. */
export function perRequest(
  after: { main: number; process: number },
  before: { main: number; process: number },
  requests: number,
): { main: number; process: number } {
  const round = (micros: number) => Math.round((micros / requests) * 10) / 10;
  return { main: round(after.main - before.main), process: round(after.process - before.process) };
}

/** The process's resident memory in MB and its thread count, from /proc. */
export function residentMb(pid: number | undefined): { rssMb: number; threads: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  const threads = Number(/^Threads:\s+(\d+)/m.exec(status)?.[1]);
  return { rssMb: Math.round(kb / 102.4) / 10, threads };
}

function statCpuMicros(path: string): number {
  const fields = readFileSync(path, "utf8").split(") ")[1]?.split(" ") ?? [];
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
