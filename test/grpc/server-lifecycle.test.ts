import { status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shutdownGrpcServer } from "../../src/grpc/server.js";
import { bearer, failureOf, promiseApi, startGrpcServer } from "./client.js";
import { openApiFixture, type ApiFixture } from "./harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

let fixture: ApiFixture;

beforeAll(async () => {
  fixture = await openApiFixture();
  await fixture.service.upsertRole(INTERNAL_CALLER, { roleId: "r", componentId: "urn:r", rootFields: ["f"] });
});

afterAll(() => fixture?.close());

const options = () => ({
  service: fixture.service,
  authorizer: fixture.authorizer,
  health: () => true,
  auth: { insecure: true },
  logger: fixture.log,
});

describe("gRPC server lifecycle and bounds", () => {
  it("lets a call in flight finish during a graceful shutdown", async () => {
    const running = await startGrpcServer(options());
    const api = promiseApi(running.client(), bearer(undefined));
    await api.getRole({ roleId: "r" }); // connected
    const held = fixture.hold();
    const inFlight = api.getRole({ roleId: "r" });
    await held.reached;
    const stopped = shutdownGrpcServer(running.server, 30_000);
    held.release();
    await expect(inFlight).resolves.toMatchObject({ role: { roleId: "r" } });
    await stopped;
  });

  it("cancels calls still running once the grace period is over", async () => {
    const running = await startGrpcServer(options());
    const api = promiseApi(running.client(), bearer(undefined));
    await api.getRole({ roleId: "r" });
    const held = fixture.hold();
    try {
      const inFlight = failureOf(api.getRole({ roleId: "r" }));
      await held.reached;
      await shutdownGrpcServer(running.server, 100);
      expect([status.CANCELLED, status.UNAVAILABLE]).toContain((await inFlight).code);
    } finally {
      held.release();
    }
  });

  it("refuses a request over the message-size bound with RESOURCE_EXHAUSTED", async () => {
    const running = await startGrpcServer({ ...options(), limits: { maxReceiveMessageBytes: 4096 } });
    try {
      const api = promiseApi(running.client(), bearer(undefined));
      const users = Array.from({ length: 500 }, (_, i) => `user:member-number-${i}`);
      expect((await failureOf(api.setUserRoles({ roleId: "r", users }))).code).toBe(
        status.RESOURCE_EXHAUSTED,
      );
      await expect(api.setUserRoles({ roleId: "r", users: users.slice(0, 10) })).resolves.toBeDefined();
    } finally {
      await running.stop();
    }
  });
});
