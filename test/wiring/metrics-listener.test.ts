import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_TOKEN, startFixture, type SidecarFixture } from "../observability/sidecar-fixture.js";

// The metrics listener (METRICS_HOST/METRICS_PORT) carries /metrics and the probes, and nothing of the API: a
// NetworkPolicy admits the monitoring namespace to it without admitting it to the RoleMapping API.
let fixture: SidecarFixture;

beforeAll(async () => {
  fixture = await startFixture();
});

afterAll(async () => {
  await fixture.close();
});

async function status(url: string, init?: RequestInit): Promise<number> {
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return response.status;
}

describe("the metrics listener", () => {
  it("listens on a port of its own", () => {
    const ports = fixture.sidecar.ports();
    expect(new Set([ports.webhookPort, ports.adminPort, ports.grpcPort, ports.metricsPort]).size).toBe(4);
  });

  it("answers the probes and serves the metrics", async () => {
    expect(await status(`${fixture.metrics}/healthz`)).toBe(200);
    expect(await status(`${fixture.metrics}/readyz`)).toBe(200);
    expect(await fixture.scrape()).toContain("rolemapper_ready 1");
  });

  it("serves none of the RoleMapping API, even with a valid credential", async () => {
    const authorization = { authorization: `Bearer ${API_TOKEN}` };
    expect(await status(`${fixture.metrics}/v1/roles/sales`, { headers: authorization })).toBe(404);
    expect(await status(`${fixture.metrics}/v1/openapi.json`)).toBe(404);
    expect(
      await status(`${fixture.metrics}/v1/user_roles`, {
        method: "PUT",
        headers: { ...authorization, "content-type": "application/json" },
        body: JSON.stringify({ role_id: "sales", users: ["user:mallory"] }),
      }),
    ).toBe(404);
    expect(await status(`${fixture.admin}/v1/roles/sales`, { headers: authorization })).toBe(200);
  });

  it("turns /readyz to 503 as soon as the sidecar stops, while it still answers during the drain", async () => {
    // A drain long enough for both probes on a loaded machine; the stop waits it out either way.
    const stopped = fixture.sidecar.stop(1_000, 3_000);
    expect(await status(`${fixture.metrics}/readyz`)).toBe(503);
    expect(await status(`${fixture.metrics}/healthz`)).toBe(200);
    await stopped;
  });
});
