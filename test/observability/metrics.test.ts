import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "../grpc/client.js";
import { healthWatchClient, watch } from "../grpc/health-watch-client.js";
import { sample, startFixture, type SidecarFixture } from "./sidecar-fixture.js";

// Scrapes the admin listener's /metrics after real traffic through the webhook, gRPC and REST.
let fixture: SidecarFixture;
let text: string;

beforeAll(async () => {
  fixture = await startFixture();
  const token = await fixture.aliceToken();
  const headers = { Authorization: `Bearer ${token}` };
  expect(await fixture.ask(headers)).toBe(200);
  expect(await fixture.ask(headers)).toBe(200);
  expect(await fixture.ask(headers, "{ hr_salaries { id } }")).toBe(401);
  expect(await fixture.ask({})).toBe(401);
  expect(await fixture.ask(headers, "{ broken")).toBe(400);
  await fixture.grpc.getRole({ roleId: "sales" });
  await failureOf(fixture.grpc.getRole({ roleId: "nobody" }));
  await fixture.grpc.setUserRoles({ roleId: "sales", users: ["user:bob_corp.com"] });
  text = await fixture.scrape();
});

afterAll(async () => {
  await fixture?.close();
});

describe("/metrics on the admin listener", () => {
  it("counts decisions by outcome and reason", () => {
    expect(sample(text, "rolemapper_decisions_total", { outcome: "allow", reason: "allowed" })).toBe(2);
    expect(
      sample(text, "rolemapper_decisions_total", { outcome: "deny", reason: "no_role_for_fields" }),
    ).toBe(1);
    expect(sample(text, "rolemapper_decisions_total", { outcome: "deny", reason: "token_missing" })).toBe(1);
    expect(sample(text, "rolemapper_decisions_total", { outcome: "fail", reason: "invalid_argument" })).toBe(
      1,
    );
  });

  it("has a decision latency histogram whose count matches the decisions", () => {
    expect(sample(text, "rolemapper_decision_duration_seconds_count", { outcome: "allow" })).toBe(2);
    expect(sample(text, "rolemapper_decision_duration_seconds_bucket", { outcome: "deny", le: "+Inf" })).toBe(
      2,
    );
  });

  it("counts token cache hits and misses: the same token twice is one miss then hits", () => {
    const hits = sample(text, "rolemapper_cache_requests_total", { cache: "token", result: "hit" }) ?? 0;
    const misses = sample(text, "rolemapper_cache_requests_total", { cache: "token", result: "miss" });
    expect(misses).toBe(1);
    expect(hits).toBeGreaterThanOrEqual(2);
    expect(sample(text, "rolemapper_cache_entries", { cache: "token" })).toBe(1);
    expect(sample(text, "rolemapper_cache_requests_total", { cache: "operation", result: "miss" })).toBe(3);
  });

  it("reports the snapshot's age and size", () => {
    expect(sample(text, "rolemapper_snapshot_roles")).toBe(1);
    expect(sample(text, "rolemapper_snapshot_grants")).toBe(2);
    expect(sample(text, "rolemapper_snapshot_reserved_rows_ignored")).toBe(0);
    expect(sample(text, "rolemapper_snapshot_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "rolemapper_snapshot_store_contact_age_seconds")).toBeGreaterThanOrEqual(0);
    expect(sample(text, "rolemapper_ready")).toBe(1);
  });

  it("counts how the snapshot follows the store: one full load at start, nothing more", () => {
    expect(sample(text, "rolemapper_snapshot_full_loads_total", { reason: "start" })).toBe(1);
    expect(sample(text, "rolemapper_snapshot_reloaded_total", { kind: "role" })).toBe(0);
    expect(sample(text, "rolemapper_snapshot_checks_total", { outcome: "mismatch" })).toBe(0);
  });

  it("times store calls by method", () => {
    expect(sample(text, "rolemapper_store_call_duration_seconds_count", { method: "setUserRoles" })).toBe(1);
    expect(
      sample(text, "rolemapper_store_call_duration_seconds_count", { method: "loadAll" }),
    ).toBeGreaterThanOrEqual(1);
  });

  it("counts gRPC calls by method and status code, and writes by transport", () => {
    expect(sample(text, "rolemapper_grpc_calls_total", { method: "GetRole", code: "OK" })).toBe(1);
    expect(sample(text, "rolemapper_grpc_calls_total", { method: "GetRole", code: "NOT_FOUND" })).toBe(1);
    expect(sample(text, "rolemapper_grpc_calls_total", { method: "SetUserRoles", code: "OK" })).toBe(1);
    expect(
      sample(text, "rolemapper_mapping_writes_total", {
        transport: "grpc",
        operation: "set_user_roles",
        outcome: "ok",
      }),
    ).toBe(1);
  });

  it("includes the process metrics", () => {
    expect(sample(text, "rolemapper_process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(sample(text, "rolemapper_nodejs_heap_size_used_bytes")).toBeGreaterThan(0);
  });

  it("shows the held health Watch calls, back to 0 once they are cancelled", async () => {
    expect(sample(text, "rolemapper_grpc_health_watchers")).toBe(0);
    const client = healthWatchClient(`127.0.0.1:${fixture.sidecar.ports().grpcPort}`);
    try {
      const calls = [watch(client, ""), watch(client, ""), watch(client, "other.v1.Service")];
      await expect
        .poll(async () => sample(await fixture.scrape(), "rolemapper_grpc_health_watchers"))
        .toBe(3);
      for (const call of calls) call.cancel();
      await expect
        .poll(async () => sample(await fixture.scrape(), "rolemapper_grpc_health_watchers"))
        .toBe(0);
    } finally {
      client.close();
    }
  });

  it("is served in the Prometheus text format on the metrics listener, and not on the webhook or admin one", async () => {
    const response = await fetch(`${fixture.metrics}/metrics`);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    await response.arrayBuffer();
    const webhookPort = fixture.sidecar.ports().webhookPort;
    expect((await fetch(`http://127.0.0.1:${webhookPort}/metrics`)).status).toBe(404);
    expect((await fetch(`${fixture.admin}/metrics`)).status).toBe(404);
  });
});

describe("two sidecars in one process", () => {
  it("keep separate registries: each counts only its own decisions", async () => {
    const other = await startFixture();
    try {
      await other.ask({});
      const otherText = await other.scrape();
      expect(
        sample(otherText, "rolemapper_decisions_total", { outcome: "deny", reason: "token_missing" }),
      ).toBe(1);
      expect(sample(otherText, "rolemapper_decisions_total", { outcome: "allow" })).toBeUndefined();
      const firstAgain = await fixture.scrape();
      expect(
        sample(firstAgain, "rolemapper_decisions_total", { outcome: "deny", reason: "token_missing" }),
      ).toBe(1);
    } finally {
      await other.close();
    }
  });
});
