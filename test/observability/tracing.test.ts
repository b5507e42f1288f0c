import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { startFixture, type SidecarFixture } from "./sidecar-fixture.js";

// Spans of the whole sidecar, caught by an in-memory exporter; then exported over OTLP/HTTP to a local receiver.
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const HASURA_SPAN = "00f067aa0ba902b7";
let fixture: SidecarFixture;
const exporter = new InMemorySpanExporter();

beforeAll(async () => {
  fixture = await startFixture({}, exporter);
});

afterAll(async () => {
  await fixture?.close();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe("tracing with an exporter", () => {
  it("continues Hasura's trace: decision under the traceparent, token and group spans under the decision", async () => {
    exporter.reset();
    const token = await fixture.aliceToken();
    const status = await fixture.ask({
      Authorization: `Bearer ${token}`,
      traceparent: `00-${TRACE_ID}-${HASURA_SPAN}-01`,
      "x-request-id": "traced-1",
    });
    expect(status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const decision = spans.find((span) => span.name === "decision");
    expect(decision?.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(decision as ReadableSpan)).toBe(HASURA_SPAN);
    expect(decision?.attributes).toMatchObject({
      "rolemapper.outcome": "allow",
      "rolemapper.reason": "allowed",
      "rolemapper.role": "sales",
      "graphql.operation.type": "query",
    });
    const decisionId = decision?.spanContext().spanId;
    for (const name of ["token.verify", "groups.lookup"]) {
      const child = spans.find((span) => span.name === name);
      expect(child?.spanContext().traceId, name).toBe(TRACE_ID);
      expect(parentOf(child as ReadableSpan), name).toBe(decisionId);
    }
    expect(JSON.stringify(spans.map((span) => span.attributes))).not.toContain(token);
    const line = fixture.log.lines().find((entry) => entry.request_id === "traced-1");
    expect(line?.trace_id).toBe(TRACE_ID);
  });

  it("starts a new trace when Hasura sends no traceparent", async () => {
    exporter.reset();
    expect(await fixture.ask({})).toBe(401);
    const decision = exporter.getFinishedSpans().find((span) => span.name === "decision");
    expect(decision).toBeDefined();
    expect(parentOf(decision as ReadableSpan)).toBeUndefined();
    expect(decision?.spanContext().traceId).not.toBe(TRACE_ID);
  });

  it("traces store calls made by API writes", async () => {
    exporter.reset();
    await fixture.grpc.setUserRoles({ roleId: "sales", users: ["user:x_y"] });
    const names = exporter.getFinishedSpans().map((span) => span.name);
    expect(names).toContain("store.setUserRoles");
    expect(names).toContain("store.getRoleGrants");
  });
});

describe("tracing over OTLP/HTTP (OTEL_EXPORTER_OTLP_ENDPOINT)", () => {
  it("posts the spans to <endpoint>/v1/traces, flushed at the latest when the sidecar stops", async () => {
    const receiver = await startOtlpReceiver();
    const traced = await startFixture({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint });
    try {
      const token = await traced.aliceToken();
      for (let i = 0; i < 3; i++) expect(await traced.ask({ Authorization: `Bearer ${token}` })).toBe(200);
    } finally {
      await traced.close();
      await receiver.close();
    }
    expect(receiver.paths.every((path) => path === "/v1/traces")).toBe(true);
    expect(receiver.spanNames.filter((name) => name === "decision")).toHaveLength(3);
    expect(receiver.spanNames.filter((name) => name === "token.verify")).toHaveLength(3);
  });

  it("is off when no endpoint is configured: no decision span, no trace_id in the audit line", async () => {
    const quiet = await startFixture();
    try {
      expect(await quiet.ask({ "x-request-id": "untraced" })).toBe(401);
      const line = quiet.log.lines().find((entry) => entry.request_id === "untraced");
      expect(line).toBeDefined();
      expect(line).not.toHaveProperty("trace_id");
    } finally {
      await quiet.close();
    }
  });
});
