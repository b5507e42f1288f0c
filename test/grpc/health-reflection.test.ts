import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { credentials, loadPackageDefinition, type Client, type ServiceError } from "@grpc/grpc-js";
import { status } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { service as healthDefinition } from "grpc-health-check";
import { makeClientConstructor } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/core/errors.js";
import { ApiTokens } from "../../src/identity/api-credentials.js";
import { shutdownGrpcServer } from "../../src/grpc/server.js";
import { ROLE_MAPPING_SERVICE_NAME } from "../../src/grpc/service-name.js";
import { startGrpcServer, type RunningGrpcServer } from "./client.js";
import { MAX_STALENESS_MS, openApiFixture, type ApiFixture } from "./harness.js";

interface HealthClient extends Client {
  check(
    request: { service: string },
    callback: (error: ServiceError | null, response: { status: string }) => void,
  ): void;
  watch(request: { service: string }): WatchStream;
}

interface WatchStream {
  on(event: "data", listener: (response: { status: string }) => void): void;
  on(event: "error", listener: (error: ServiceError) => void): void;
  on(event: "end", listener: () => void): void;
}

interface ReflectionStream {
  write(request: object): void;
  end(): void;
  on(event: "data", listener: (response: ReflectionResponse) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
}

interface ReflectionResponse {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number };
}

let fixture: ApiFixture;
let running: RunningGrpcServer;

beforeAll(async () => {
  fixture = await openApiFixture();
  running = await startGrpcServer({
    service: fixture.service,
    authorizer: fixture.authorizer,
    health: () => fixture.sync.ready(),
    // Tokens are required for the RoleMapping calls; health and reflection below send none.
    auth: { tokens: ApiTokens.load({ tokens: "ci:some-long-token-value-1234" }) },
    logger: fixture.log,
  });
});

afterAll(async () => {
  await running?.stop();
  await fixture?.close();
});

function healthClient(address = running.address): HealthClient {
  const Constructor = makeClientConstructor(healthDefinition, "grpc.health.v1.Health");
  return new Constructor(address, credentials.createInsecure()) as unknown as HealthClient;
}

function check(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (error, response) => (error ? reject(error) : resolve(response.status))),
  );
}

/** Sends one request on a fresh reflection stream (v1) and resolves with the first answer. */
function reflect(request: object): Promise<ReflectionResponse> {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");
  const definition = loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [root] });
  const loaded = loadPackageDefinition(definition) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: unknown) => Client } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(
    running.address,
    credentials.createInsecure(),
  );
  const stream = (client as unknown as { serverReflectionInfo(): ReflectionStream }).serverReflectionInfo();
  return new Promise((resolve, reject) => {
    stream.on("data", (response) => {
      resolve(response);
      stream.end();
      client.close();
    });
    stream.on("error", reject);
    stream.write(request);
  });
}

describe("grpc.health.v1.Health", () => {
  it("is SERVING while the store answers and NOT_SERVING once it has been away too long, without a token", async () => {
    const client = healthClient();
    try {
      expect(await check(client, "")).toBe("SERVING");
      expect(await check(client, ROLE_MAPPING_SERVICE_NAME)).toBe("SERVING");

      fixture.fail(new UnavailableError("database connection refused"));
      await fixture.sync.poll();
      fixture.advance(MAX_STALENESS_MS + 1);
      expect(await check(client, ROLE_MAPPING_SERVICE_NAME)).toBe("NOT_SERVING");
      expect(await check(client, "")).toBe("NOT_SERVING");

      fixture.fail(undefined);
      await fixture.sync.poll();
      expect(await check(client, ROLE_MAPPING_SERVICE_NAME)).toBe("SERVING");
    } finally {
      fixture.fail(undefined);
      client.close();
    }
  });

  it("answers NOT_FOUND for a service it does not know", async () => {
    const client = healthClient();
    try {
      const failure = await check(client, "other.v1.Service").catch((error: ServiceError) => error.code);
      expect(failure).toBe(status.NOT_FOUND);
    } finally {
      client.close();
    }
  });
});

describe("grpc.health.v1.Health Watch", () => {
  it("streams each change of status, and ends when the server shuts down", async () => {
    let healthy = true;
    const watched = await startGrpcServer({
      service: fixture.service,
      authorizer: fixture.authorizer,
      health: () => healthy,
      auth: { insecure: true },
      logger: fixture.log,
      healthWatchIntervalMs: 10,
    });
    const client = healthClient(watched.address);
    try {
      const stream = client.watch({ service: ROLE_MAPPING_SERVICE_NAME });
      const seen: string[] = [];
      let next: ((status: string) => void) | undefined;
      const ended = new Promise<void>((resolve, reject) => {
        stream.on("end", resolve);
        stream.on("error", reject);
      });
      stream.on("data", (response) => {
        seen.push(response.status);
        next?.(response.status);
      });
      const nextStatus = () => new Promise<string>((resolve) => (next = resolve));

      const first = seen.length > 0 ? (seen[0] as string) : await nextStatus();
      expect(first).toBe("SERVING");
      const second = nextStatus();
      healthy = false;
      expect(await second).toBe("NOT_SERVING");
      const third = nextStatus();
      healthy = true;
      expect(await third).toBe("SERVING");

      await shutdownGrpcServer(watched.server, 30_000);
      await ended;
      expect(seen).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
    } finally {
      client.close();
    }
  });
});

describe("server reflection", () => {
  it("lists the RoleMapping and health services without a token", async () => {
    const response = await reflect({ listServices: "*" });
    const names = response.listServicesResponse?.service.map((service) => service.name) ?? [];
    expect(names).toEqual(expect.arrayContaining([ROLE_MAPPING_SERVICE_NAME, "grpc.health.v1.Health"]));
  });

  it("serves the file describing the RoleMapping service, as grpcurl asks for it", async () => {
    const response = await reflect({ fileContainingSymbol: ROLE_MAPPING_SERVICE_NAME });
    const files = response.fileDescriptorResponse?.fileDescriptorProto ?? [];
    expect(files.length).toBeGreaterThan(0);
    const text = Buffer.concat(files).toString("latin1");
    expect(text).toContain("ExplainDecision");
    expect(text).toContain("graphql_root_field_names");
  });
});
