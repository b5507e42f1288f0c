import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { DEFAULT_RETRY, fetchWithRetry, type HttpAttempt } from "../../src/identity/http-retry.js";
import { SingleFlightCache } from "../../src/identity/single-flight-cache.js";
import { createCachingVerifier } from "../../src/identity/token-cache.js";
import { SidecarMetrics } from "../../src/observability/metrics.js";
import { sample } from "./sidecar-fixture.js";

// The counts identity code exposes for metrics, without any metrics library in identity itself.
describe("cache statistics", () => {
  it("counts a load as a miss, and a cached value or a shared load as a hit", async () => {
    const cache = new SingleFlightCache<string>({ maxEntries: 10 });
    const load = async () => ({ value: "v", expiresAt: Date.now() + 60_000 });
    await Promise.all([cache.get("a", load), cache.get("a", load)]);
    await cache.get("a", load);
    await cache.get("b", load);
    expect(cache.stats()).toEqual({ hits: 2, misses: 2, size: 2 });
  });

  it("reports the token cache's hits and misses", async () => {
    const verifier = createCachingVerifier({
      verify: async () => ({ claims: {}, expiresAt: Math.floor(Date.now() / 1000) + 600 }),
    });
    await verifier.verify("one");
    await verifier.verify("one");
    await verifier.verify("two");
    expect(verifier.stats()).toEqual({ hits: 1, misses: 2, size: 2 });
  });
});

describe("outbound call attempts", () => {
  it("reports each attempt, throttled ones marked, and metrics count them by target and status", async () => {
    const statuses = [429, 503, 200];
    const server = createServer((_req, res) => {
      res.writeHead(statuses.shift() ?? 200, { "retry-after": "0" }).end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const attempts: HttpAttempt[] = [];
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const policy = { ...DEFAULT_RETRY, baseDelayMs: 1, onAttempt: (a: HttpAttempt) => attempts.push(a) };
      const response = await fetchWithRetry(url, {}, Date.now() + 10_000, policy, "test call");
      expect(response.status).toBe(200);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(attempts).toEqual([
      { status: 429, throttled: true },
      { status: 503, throttled: true },
      { status: 200, throttled: false },
    ]);
    const metrics = new SidecarMetrics({ processMetrics: false });
    for (const attempt of attempts) metrics.observeIdentityCall("graph", attempt.status, attempt.throttled);
    metrics.observeIdentityCall("azure_token", undefined, false);
    const text = await metrics.scrape();
    expect(sample(text, "rolemapper_graph_requests_total", { target: "graph", status: "429" })).toBe(1);
    expect(sample(text, "rolemapper_graph_throttled_total", { target: "graph" })).toBe(2);
    expect(sample(text, "rolemapper_graph_requests_total", { target: "azure_token", status: "error" })).toBe(
      1,
    );
  });
});
