import { credentials } from "@grpc/grpc-js";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver } from "./otlp-receiver.js";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { bearer, promiseApi } from "../grpc/client.js";
import { API_TOKEN, startFixture, type SidecarFixture } from "./sidecar-fixture.js";

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
    // The write answers its own before/after counts: the audit reads nothing before it.
    expect(names).not.toContain("store.getRoleGrants");
  });
});

describe("tracing the RoleMapping API", () => {
  const CALLER_SPAN = "b7ad6b7169203331";
  const traceparent = `00-${TRACE_ID}-${CALLER_SPAN}-01`;

  /** A server span continuing the caller's trace, as sent in `traceparent`. */
  function expectCallerServerSpan(span: ReadableSpan | undefined): void {
    expect(span?.kind).toBe(SpanKind.SERVER);
    expect(span?.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(span as ReadableSpan)).toBe(CALLER_SPAN);
  }

  it("gives each gRPC call a server span in the caller's trace, its store calls under it, and its status", async () => {
    const client = new RoleMappingServiceClient(
      `127.0.0.1:${fixture.sidecar.ports().grpcPort}`,
      credentials.createInsecure(),
    );
    try {
      const metadata = bearer(API_TOKEN);
      metadata.set("traceparent", traceparent);
      const api = promiseApi(client, metadata);
      exporter.reset();
      await api.setUserRoles({ roleId: "sales", users: ["user:traced_y"] });
      const spans = exporter.getFinishedSpans();
      const call = spans.find((span) => span.name === "rolemapper.v1.RoleMappingService/SetUserRoles");
      expectCallerServerSpan(call);
      expect(call?.attributes).toEqual({
        "rpc.system": "grpc",
        "rpc.service": "rolemapper.v1.RoleMappingService",
        "rpc.method": "SetUserRoles",
        "rpc.grpc.status_code": 0,
      });
      const store = spans.find((span) => span.name === "store.setUserRoles");
      expect(parentOf(store as ReadableSpan)).toBe(call?.spanContext().spanId);

      exporter.reset();
      await expect(api.getRole({ roleId: "no_such_role" })).rejects.toMatchObject({ code: 5 });
      const failed = exporter.getFinishedSpans().find((span) => span.name.endsWith("/GetRole"));
      expect(failed?.attributes["rpc.grpc.status_code"]).toBe(5);
      expect(failed?.status.code).toBe(SpanStatusCode.ERROR);
      expect(JSON.stringify(failed?.attributes)).not.toContain("no_such_role");
    } finally {
      client.close();
    }
  });

  it("gives each REST call a server span named by its route, never by the ids in its path; probes get none", async () => {
    exporter.reset();
    const put = await fetch(`${fixture.admin}/v1/user_roles`, {
      method: "PUT",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json", traceparent },
      body: JSON.stringify({ role_id: "sales", users: ["user:rest_y"] }),
    });
    expect(put.status).toBe(200);
    const get = await fetch(`${fixture.admin}/v1/roles/no_such_role`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(get.status).toBe(404);
    expect((await fetch(`${fixture.admin}/healthz`)).status).toBe(200);
    await expect.poll(() => exporter.getFinishedSpans().length).toBeGreaterThanOrEqual(3);

    const spans = exporter.getFinishedSpans();
    const write = spans.find((span) => span.name === "PUT /v1/user_roles");
    expectCallerServerSpan(write);
    expect(write?.attributes).toEqual({
      "http.request.method": "PUT",
      "http.route": "/v1/user_roles",
      "http.response.status_code": 200,
    });
    const store = spans.find((span) => span.name === "store.setUserRoles");
    expect(parentOf(store as ReadableSpan)).toBe(write?.spanContext().spanId);

    const read = spans.find((span) => span.name === "GET /v1/roles/:role_id");
    expect(read?.attributes["http.response.status_code"]).toBe(404);
    expect(read?.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(JSON.stringify(spans.map((span) => [span.name, span.attributes]))).not.toMatch(
      /no_such_role|healthz/,
    );
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
