import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpsServer, request as httpsRequest } from "node:https";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminApp } from "../../src/http/admin-app.js";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import { makeTestCertificates, type TestCertificates } from "../support/certs.js";
import { openApiFixture, type ApiFixture } from "../grpc/harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

const LISTED = "listed-rest-token-aaaaaaaa";
const FIRST = "rest-file-token-1111111111";
const SECOND = "rest-file-token-2222222222";

let fixture: ApiFixture;
let certs: TestCertificates;
let dir: string;

beforeAll(async () => {
  [fixture, certs] = await Promise.all([openApiFixture(), makeTestCertificates()]);
  dir = await mkdtemp(join(tmpdir(), "rolemapper-rest-tokens-"));
  await fixture.service.upsertRole(INTERNAL_CALLER, {
    roleId: "r1",
    componentId: "urn:r1",
    rootFields: ["f"],
  });
});

afterAll(async () => {
  await fixture?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function listen(server: Server): Promise<number> {
  await new Promise((resolve) => server.once("listening", resolve));
  return (server.address() as AddressInfo).port;
}

describe("REST authentication with bearer tokens", () => {
  let server: Server;
  let base: string;
  let file: string;

  beforeAll(async () => {
    file = join(dir, "tokens");
    await writeFile(file, `rotating:${FIRST}\n`);
    const app = createAdminApp({
      service: fixture.service,
      auth: { tokens: ApiTokens.load({ tokens: `ci:${LISTED}`, tokensFile: file, fileCheckIntervalMs: 0 }) },
      logger: fixture.log,
    });
    server = app.listen(0, "127.0.0.1");
    base = `http://127.0.0.1:${await listen(server)}`;
  });

  afterAll(() => new Promise((resolve) => server?.close(resolve)));

  const getRole = async (authorization: string | undefined) => {
    const response = await fetch(`${base}/v1/roles/r1`, {
      headers: authorization === undefined ? {} : { authorization },
    });
    return {
      status: response.status,
      body: (await response.json()) as unknown,
      www: response.headers.get("www-authenticate"),
    };
  };

  it('refuses a missing or wrong token with 401 "Unauthorized", before reading the body', async () => {
    expect(await getRole(undefined)).toEqual({
      status: 401,
      body: "Unauthorized",
      www: 'Bearer realm="rolemapper"',
    });
    expect((await getRole("Bearer wrong-token-wrong-token")).status).toBe(401);
    expect((await getRole(`Basic ${LISTED}`)).status).toBe(401);
    const put = await fetch(`${base}/v1/user_roles`, { method: "PUT", body: "{not even json" });
    expect(put.status).toBe(401);
  });

  it("accepts listed and file tokens, logging the caller's name and never the token", async () => {
    expect((await getRole(`Bearer ${LISTED}`)).status).toBe(200);
    expect(fixture.log.calls().at(-1)).toMatchObject({ transport: "rest", caller: "ci", status: 200 });
    expect((await getRole(`Bearer ${FIRST}`)).status).toBe(200);
    expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "rotating", method: "GET /v1/roles/r1" });
    expect(fixture.log.text()).not.toContain(FIRST);
    expect(fixture.log.text()).not.toContain(LISTED);
  });

  it("takes a rotated token file into account without a restart", async () => {
    await writeFile(file, `rotating:${SECOND}\n`);
    expect((await getRole(`Bearer ${FIRST}`)).status).toBe(401);
    expect((await getRole(`Bearer ${SECOND}`)).status).toBe(200);
  });

  it("refuses to build the app with no authentication unless told insecure", () => {
    expect(() => createAdminApp({ service: fixture.service, auth: {}, logger: fixture.log })).toThrow(
      /refusing to serve/,
    );
    expect(() =>
      createAdminApp({ service: fixture.service, auth: { insecure: true }, logger: fixture.log }),
    ).not.toThrow();
  });
});

describe("REST authentication with client certificates over HTTPS", () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const app = createAdminApp({
      service: fixture.service,
      auth: {},
      clientCertificates: true,
      logger: fixture.log,
    });
    server = createHttpsServer(
      {
        cert: certs.server.cert,
        key: certs.server.key,
        ca: certs.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
      app,
    ).listen(0, "127.0.0.1");
    port = await listen(server);
  });

  afterAll(() => new Promise((resolve) => server?.close(resolve)));

  function get(client: { cert: string; key: string } | undefined): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: "127.0.0.1",
          port,
          path: "/v1/roles/r1",
          servername: "localhost",
          ca: certs.ca,
          ...(client ?? {}),
          agent: false,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
  }

  it("accepts a certificate signed by the configured CA and names the caller by its subject", async () => {
    expect(await get(certs.client)).toBe(200);
    expect(fixture.log.calls().at(-1)).toMatchObject({ caller: "cn:provisioner", auth: "certificate" });
  });

  it("rejects a certificate signed by another CA, and a client with none, at the handshake", async () => {
    await expect(get(certs.foreignClient)).rejects.toThrow();
    await expect(get(undefined)).rejects.toThrow();
  });
});
