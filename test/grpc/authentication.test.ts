import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import { createGrpcServer } from "../../src/grpc/server.js";
import { makeTestCertificates, type TestCertificates } from "../support/certs.js";
import { bearer, failureOf, promiseApi, startGrpcServer, type RunningGrpcServer } from "./client.js";
import { openApiFixture, type ApiFixture } from "./harness.js";

const LISTED = "listed-token-aaaaaaaaaaaa";
const FIRST = "file-token-one-111111111111";
const SECOND = "file-token-two-222222222222";

let fixture: ApiFixture;
let dir: string;
let certs: TestCertificates;

beforeAll(async () => {
  [fixture, certs] = await Promise.all([openApiFixture(), makeTestCertificates()]);
  dir = await mkdtemp(join(tmpdir(), "rolemapper-tokens-"));
});

afterAll(async () => {
  await fixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function baseOptions() {
  return {
    service: fixture.service,
    authorizer: fixture.authorizer,
    health: () => true,
    logger: fixture.log,
  };
}

describe("gRPC authentication with bearer tokens", () => {
  let running: RunningGrpcServer;
  let file: string;

  beforeAll(async () => {
    file = join(dir, "tokens");
    await writeFile(file, `# provisioner credentials\nrotating:${FIRST}\n`);
    running = await startGrpcServer({
      ...baseOptions(),
      auth: { tokens: ApiTokens.load({ tokens: `ci:${LISTED}`, tokensFile: file, fileCheckIntervalMs: 0 }) },
    });
  });

  afterAll(() => running?.stop());

  const listRoles = (metadataToken: string | undefined) =>
    promiseApi(running.client(), bearer(metadataToken)).listRoles({ pageSize: 1, pageToken: "" });

  it("refuses a call without a token, or with a wrong one, with UNAUTHENTICATED", async () => {
    expect((await failureOf(listRoles(undefined))).code).toBe(status.UNAUTHENTICATED);
    expect((await failureOf(listRoles("not-a-known-token-at-all"))).code).toBe(status.UNAUTHENTICATED);
    expect((await failureOf(listRoles(LISTED.slice(0, -1)))).code).toBe(status.UNAUTHENTICATED);
  });

  it("accepts tokens from the list and from the file, and names the caller in the audit log", async () => {
    await listRoles(LISTED);
    expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "ci", auth: "token", code: "OK" });
    await listRoles(FIRST);
    expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "rotating", code: "OK" });
    expect(fixture.log.text()).not.toContain(FIRST);
  });

  it("takes a rotated token file into account without a restart", async () => {
    await writeFile(file, `rotating:${SECOND}\n`);
    expect((await failureOf(listRoles(FIRST))).code).toBe(status.UNAUTHENTICATED);
    await expect(listRoles(SECOND)).resolves.toBeDefined();
    // The listed token is unaffected by the file.
    await expect(listRoles(LISTED)).resolves.toBeDefined();
  });

  it("refuses every file token, failing closed, when the file disappears", async () => {
    await rm(file);
    expect((await failureOf(listRoles(SECOND))).code).toBe(status.UNAVAILABLE);
    await writeFile(file, `rotating:${SECOND}\n`);
    await expect(listRoles(SECOND)).resolves.toBeDefined();
  });
});

describe("gRPC server setup", () => {
  it("refuses to build a server with no authentication unless told insecure", () => {
    expect(() => createGrpcServer({ ...baseOptions(), auth: {} })).toThrow(/refusing to serve/);
    expect(() => createGrpcServer({ ...baseOptions(), auth: { insecure: true } })).not.toThrow();
  });

  it("serves anonymous callers when insecure, naming them so in the log", async () => {
    const running = await startGrpcServer({ ...baseOptions(), auth: { insecure: true } });
    try {
      await promiseApi(running.client(), bearer(undefined)).listRoles({ pageSize: 1, pageToken: "" });
      expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "anonymous", auth: "none" });
    } finally {
      await running.stop();
    }
  });
});

describe("gRPC authentication with client certificates (mutual TLS)", () => {
  let running: RunningGrpcServer;
  // The server certificate is for localhost; the client connects to 127.0.0.1, so the name is overridden.
  const channelOptions = { "grpc.ssl_target_name_override": "localhost" };

  beforeAll(async () => {
    running = await startGrpcServer({
      ...baseOptions(),
      auth: {},
      tls: { cert: certs.server.cert, key: certs.server.key, clientCa: certs.ca },
    });
  });

  afterAll(() => running?.stop());

  const listWith = (key: string | null, cert: string | null) => {
    const channel = credentials.createSsl(
      Buffer.from(certs.ca),
      key === null ? null : Buffer.from(key),
      cert === null ? null : Buffer.from(cert),
    );
    return promiseApi(running.client(channel, channelOptions), bearer(undefined)).listRoles({
      pageSize: 1,
      pageToken: "",
    });
  };

  it("accepts a client certificate signed by the configured CA and names the caller by its subject", async () => {
    await listWith(certs.client.key, certs.client.cert);
    expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "cn:provisioner", auth: "certificate" });
  });

  it("rejects a client certificate signed by another CA", async () => {
    const failure = await failureOf(listWith(certs.foreignClient.key, certs.foreignClient.cert));
    expect(failure.code).toBe(status.UNAVAILABLE);
    expect(fixture.log.calls().some((call) => call.caller === "cn:intruder")).toBe(false);
  });

  it("rejects a client presenting no certificate", async () => {
    expect((await failureOf(listWith(null, null))).code).toBe(status.UNAVAILABLE);
  });

  it("requires the token as well when both tokens and a client CA are configured", async () => {
    const both = await startGrpcServer({
      ...baseOptions(),
      auth: { tokens: ApiTokens.load({ tokens: `ci:${LISTED}` }) },
      tls: { cert: certs.server.cert, key: certs.server.key, clientCa: certs.ca },
    });
    try {
      const channel = credentials.createSsl(
        Buffer.from(certs.ca),
        Buffer.from(certs.client.key),
        Buffer.from(certs.client.cert),
      );
      const client = both.client(channel, channelOptions);
      const request = { pageSize: 1, pageToken: "" };
      expect((await failureOf(promiseApi(client, bearer(undefined)).listRoles(request))).code).toBe(
        status.UNAUTHENTICATED,
      );
      await expect(promiseApi(client, bearer(LISTED)).listRoles(request)).resolves.toBeDefined();
    } finally {
      await both.stop();
    }
  });
});
