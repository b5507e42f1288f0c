import { defineConfig } from "vitest/config";

// In CI a JSON report is written too, so .ci/run can print one plain "N passed, N failed" line.
const ci = process.env.CI === "true";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // A scratch directory per run for what test files make once and share (test/support/run-scratch.ts).
    globalSetup: ["test/support/run-scratch-setup.ts"],
    // expect.poll waits for an event; on a loaded 2-core CI machine its default of 1 s is too short a bound.
    expect: { poll: { timeout: 15_000 } },
    reporters: ci ? ["default", "json"] : ["default"],
    ...(ci ? { outputFile: { json: "test-results/vitest.json" } } : {}),
  },
});
