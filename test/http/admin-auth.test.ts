import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAdminApp } from "../../src/http/admin-app.js";
import { createRestApi } from "../../src/http/rest-api.js";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import { openApiFixture, type ApiFixture } from "../grpc/harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

const LISTED = "listed-rest-token-aaaaaaaa";
const FIRST = "rest-file-token-1111111111";
const SECOND = "rest-file-token-2222222222";

let fixture: ApiFixture;
let dir: string;

beforeAll(async () => {
  fixture = await openApiFixture();
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
      authorizer: fixture.authorizer,
      ready: () => true,
      auth: { tokens: ApiTokens.load({ tokens: `ci:${LISTED}`, tokensFile: file, fileCheckIntervalMs: 0 }) },
      logger: fixture.log,
    });
    server = createServer(app).listen(0, "127.0.0.1");
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
    const core = { service: fixture.service, authorizer: fixture.authorizer, logger: fixture.log };
    expect(() => createRestApi({ ...core, auth: {} })).toThrow(/refusing to serve/);
    expect(() => createRestApi({ ...core, auth: { insecure: true } })).not.toThrow();
  });
});
