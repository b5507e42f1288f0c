import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import type { Authorizer } from "../../src/core/authorizer.js";
import type { MappingService } from "../../src/core/mapping-service.js";
import { createAdminApp } from "../../src/http/admin-app.js";
import { ApiTokens, type ApiAuth } from "../../src/identity/api-credentials.js";
import { RecordingLogger } from "../support/recording-logger.js";

// The admin listener answers the probes itself and hands everything else to the REST API's express app, built on
// the first such request; with no API token configured there is no REST API at all.

const TOKEN = "admin-listener-test-token-0123";
const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())))));

async function start(auth: ApiAuth, ready = true): Promise<string> {
  const service = {
    getRole: (roleId: string) =>
      Promise.resolve({ roleId, componentId: "urn:c", rootFields: ["f"], users: [], groups: [] }),
  } as unknown as MappingService;
  const listener = createAdminApp({
    ready: () => ready,
    service,
    authorizer: {} as Authorizer,
    auth,
    bodyLimitBytes: 1024,
    logger: new RecordingLogger().pino,
  });
  const server = createServer(listener);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) as unknown };
}

describe("the admin listener", () => {
  it("answers the probes, and a JSON 404 for anything else, when the REST API is off", async () => {
    const base = await start({ tokens: ApiTokens.load({ tokens: "" }) }, false);
    expect(await get(`${base}/healthz`)).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get(`${base}/readyz`)).toEqual({ status: 503, body: { status: "not ready" } });
    expect(await get(`${base}/v1/roles/sales`, { authorization: `Bearer ${TOKEN}` })).toEqual({
      status: 404,
      body: "Not found",
    });
  });

  it("serves the REST API when a token is configured, to several first requests at once", async () => {
    const base = await start({ tokens: ApiTokens.load({ tokens: `provisioner:${TOKEN}` }) });
    const authorization = { authorization: `Bearer ${TOKEN}` };
    const answers = await Promise.all([
      get(`${base}/v1/roles/sales`, authorization),
      get(`${base}/v1/roles/other`, authorization),
      get(`${base}/v1/openapi.json`),
      get(`${base}/v1/roles/sales`),
      get(`${base}/nowhere`),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 401, 404]);
    expect(answers[0]?.body).toMatchObject({ role_id: "sales" });
    expect(answers[4]?.body).toBe("Not found");
    expect(await get(`${base}/v1/health`)).toEqual({ status: 200, body: "Alive" });
  });
});
