import { describe, expect, it } from "vitest";
import { envValue, hasKubectl, podTemplate, renderExamples } from "./manifests.js";
import { DEPLOY_README, sections, tableRows } from "./readme.js";

// The sidecar's memory settings follow the measured table in deploy/README.md ("Memory"), for the mapping size
// that section states.
const memory = sections().get("Memory") ?? "";

interface Measured {
  grants: number;
  store: string;
  loadedMiB: number | undefined;
  peakMiB: number | undefined;
  capMiB: number | undefined;
}

const number = (cell: string | undefined) => {
  const match = /^([\d,]+) MiB/.exec(cell ?? "");
  return match ? Number(match[1]!.replaceAll(",", "")) : undefined;
};

const measured: Measured[] = tableRows(memory).map(([grants, store, loaded, peak, cap]) => ({
  grants: Number(grants!.replaceAll(",", "")),
  store: store!,
  loadedMiB: number(loaded),
  peakMiB: number(peak),
  capMiB: number(cap),
}));
const statedGrants = Number(
  /\*\*sized for up to ([\d,]+) grant rows\*\*/.exec(DEPLOY_README)?.[1]?.replaceAll(",", ""),
);
const stated = measured.filter((row) => row.grants === statedGrants);

/** A Kubernetes memory quantity in MiB. */
function mebibytes(quantity: string | undefined): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity ?? "");
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === "Gi" ? 1024 : 1);
}

describe("the memory table of deploy/README.md", () => {
  it("measures 10,000, 100,000 and 1,000,000 grant rows, and states the size the defaults are for", () => {
    expect([...new Set(measured.map((row) => row.grants))]).toEqual([10_000, 100_000, 1_000_000]);
    expect(stated.length).toBeGreaterThan(0);
  });

  it("has, for the stated size, the peak and the heap cap of every store measured", () => {
    for (const row of stated) {
      expect(row.peakMiB, row.store).toBeGreaterThan(0);
      expect(row.capMiB, row.store).toBeGreaterThan(0);
      expect(row.loadedMiB!, row.store).toBeLessThanOrEqual(row.peakMiB!);
    }
  });
});

const examples = await renderExamples();

describe.skipIf(!hasKubectl)("the sidecar's memory, as rendered", () => {
  const peak = Math.max(...stated.map((row) => row.peakMiB ?? 0));
  const loaded = Math.max(...stated.map((row) => row.loadedMiB ?? 0));
  const cap = Math.max(...stated.map((row) => row.capMiB ?? 0));

  it.each(examples.map((example) => [example.name, example.objects] as const))("%s", (_name, objects) => {
    expect(stated.length, "rows for the stated size").toBeGreaterThan(0);
    const deployment = objects.find((o) => o.kind === "Deployment")!;
    const sidecar = podTemplate(deployment).spec.initContainers!.find((c) => c.name === "rolemapper")!;
    const limit = mebibytes(sidecar.resources?.limits?.memory);
    const request = mebibytes(sidecar.resources?.requests?.memory);
    // Room above the measured peak for the webhook under load (the bench's footprint adds some 20 MiB).
    expect(limit).toBeGreaterThanOrEqual(Math.ceil(peak * 1.25));
    expect(request).toBeGreaterThanOrEqual(loaded);
    expect(request).toBeLessThanOrEqual(limit);
    const heap = Number(/^--max-old-space-size=(\d+)$/.exec(envValue(sidecar, "NODE_OPTIONS") ?? "")?.[1]);
    // At least the cap the stated size was measured with, and below the limit by room for what is not heap.
    expect(heap).toBeGreaterThanOrEqual(cap);
    expect(heap + 96).toBeLessThanOrEqual(limit);
  });
});
