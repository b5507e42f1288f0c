import { afterAll, beforeAll } from "vitest";
import type { MappingLimits } from "../../src/core/mapping-service.js";
import { createAdminApp } from "../../src/http/admin-app.js";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import { listen, type Listening } from "../../src/wiring/listen.js";
import { openApiFixture, type ApiFixture } from "../grpc/harness.js";

/** The admin app under test and the URL it listens on; filled in before the file's tests run. */
export interface AdminServer {
  fixture: ApiFixture;
  base: string;
}

/** Serves the admin REST app on an API fixture at 127.0.0.1:0 for the whole test file, with `tokens` as ApiTokens.load takes them. */
export function adminServer(options: {
  readonly tokens: string;
  readonly limits?: MappingLimits;
  readonly bodyLimitBytes?: number;
}): AdminServer {
  const admin = {} as AdminServer;
  let server: Listening | undefined;

  beforeAll(async () => {
    admin.fixture = await openApiFixture(options.limits);
    const app = createAdminApp({
      service: admin.fixture.service,
      authorizer: admin.fixture.authorizer,
      ready: () => true,
      auth: { tokens: ApiTokens.load({ tokens: options.tokens }) },
      bodyLimitBytes: options.bodyLimitBytes,
      logger: admin.fixture.log,
    });
    server = await listen(app, "127.0.0.1", 0);
    admin.base = `http://127.0.0.1:${server.port}`;
  });

  afterAll(async () => {
    await server?.close(1000);
    await admin.fixture?.close();
  });

  return admin;
}
