import { describe, expect, it } from "vitest";
import type { AuthorizationResult } from "../../src/core/authorizer.js";
import { OperationError } from "../../src/core/operation.js";
import { DecisionLog } from "../../src/observability/decision-log.js";
import { RecordingLogger } from "../support/recording-logger.js";

const MIB = 1024 * 1024;

function result(overrides: Partial<AuthorizationResult>): AuthorizationResult {
  return {
    outcome: "deny",
    role: undefined,
    user: "user:alice_corp.com",
    groupCount: 0,
    operationType: "query",
    operationName: undefined,
    rootFields: [],
    reason: "no_roles",
    ...overrides,
  };
}

describe("decision log: what a client controls cannot blow up a log line", () => {
  it("a 1 MB X-Request-Id, operation name, root field or error message is clipped", () => {
    const log = new RecordingLogger();
    const decisions = new DecisionLog(log.pino, 1);
    const huge = "z".repeat(MIB);
    decisions.record({
      requestId: huge,
      latencyMs: 1,
      result: result({ operationName: huge, rootFields: [huge, "orders"] }),
    });
    decisions.record({
      requestId: "r-2",
      latencyMs: 1,
      result: result({
        outcome: "fail",
        reason: "invalid_argument",
        error: new OperationError(`no operation named "${huge}"`),
      }),
    });
    const [denied, failed] = log.lines();
    expect(log.raw().length).toBeLessThan(8 * 1024);
    expect(String(denied?.request_id)).toMatch(/^z{128}…$/);
    expect((denied?.root_fields as string[])[1]).toBe("orders");
    expect(String((failed?.error as { message: string }).message)).toMatch(
      /^query: no operation named "z+…$/,
    );
  });

  it("short values are logged exactly as given", () => {
    const log = new RecordingLogger();
    new DecisionLog(log.pino, 1).record({
      requestId: "req-1",
      latencyMs: 1,
      result: result({ operationName: "Q", rootFields: ["orders"] }),
    });
    expect(log.lines()[0]).toMatchObject({
      request_id: "req-1",
      operation_name: "Q",
      root_fields: ["orders"],
    });
  });
});
