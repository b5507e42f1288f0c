/**
 * Summarises a V8 CPU profile (node --cpu-prof): self time by function and by package or source file.
 * Usage: npx tsx test/bench/profile-summary.ts FILE.cpuprofile [top N]
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = "25"] = process.argv.slice(2);
if (!file) {
  console.error("usage: profile-summary.ts FILE.cpuprofile [top N]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
profile.samples.forEach((id, i) =>
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)),
);
const total = [...selfMicros.values()].reduce((a, b) => a + b, 0);

const byFunction = new Map<string, number>();
const byModule = new Map<string, number>();
for (const [id, micros] of selfMicros) {
  const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
  const where = place(url);
  add(byFunction, `${functionName || "(anonymous)"} ${where}:${lineNumber + 1}`, micros);
  add(byModule, where.split(":")[0] as string, micros);
}
print("self time by package / file", byModule);
print("self time by function", byFunction);

function place(url: string): string {
  if (url === "") return "(native/V8)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] as string);
  }
  if (url.startsWith("node:")) return url;
  const own = Math.max(url.indexOf("/src/"), url.indexOf("/dist/"));
  return own >= 0 ? url.slice(own + 1) : url;
}

function add(map: Map<string, number>, key: string, micros: number): void {
  map.set(key, (map.get(key) ?? 0) + micros);
}

function print(title: string, map: Map<string, number>): void {
  console.log(`\n${title} (total ${(total / 1e6).toFixed(1)} s)`);
  for (const [key, micros] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    console.log(`${((micros / total) * 100).toFixed(1).padStart(5)}%  ${key}`);
  }
}
