import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "../..");
const GENERATED = "src/grpc/gen";

async function filesUnder(dir: string): Promise<Map<string, string>> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(relative(dir, path), await readFile(path, "utf8"));
  }
  return files;
}

describe("generated gRPC code", () => {
  it("is what `npm run generate` produces from proto/ (regenerate and commit when this fails)", async () => {
    const out = await mkdtemp(join(tmpdir(), "rolemapper-gen-"));
    try {
      await run(join(ROOT, "node_modules/.bin/buf"), ["generate", "--output", out], { cwd: ROOT });
      const fresh = await filesUnder(join(out, GENERATED));
      const committed = await filesUnder(join(ROOT, GENERATED));
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      for (const [path, text] of fresh) expect(committed.get(path), path).toBe(text);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
