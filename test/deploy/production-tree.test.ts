import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { credentials, loadPackageDefinition, type Client } from "@grpc/grpc-js";
import { loadSync } from "@grpc/proto-loader";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startOtlpReceiver } from "../observability/otlp-receiver.js";
import { freePort } from "../support/free-port.js";
import { preparePristineCluster, seedPristineCluster } from "../support/pglite-template.js";
import { exitWithin, start, waitFor200 } from "./child-process.js";
import { BUILD_INPUTS, RUNTIME_FROM_CONTEXT } from "./docker-steps.js";
import { ROOT } from "./manifests.js";

// The Dockerfile's steps, without Docker: build with the dev tree, install the production tree alone, and put
// into it what the runtime stage copies (dockerfile.test.ts checks the Dockerfile copies the same lists).

const hasMain = existsSync(join(ROOT, "src", "main.ts"));
const NPM_CI_MS = 10 * 60_000;

async function run(command: string, args: string[], cwd: string): Promise<void> {
  const result = await new Promise<{ status: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output }));
  });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.output}`);
  }
}

// The build and the production install read nothing of each other until the runtime stage: they run side by side.
async function buildStage(build: string): Promise<void> {
  // The dev tree is the repository's own, installed from the same lockfile by `npm ci`.
  for (const input of BUILD_INPUTS) cpSync(join(ROOT, input), join(build, input), { recursive: true });
  symlinkSync(join(ROOT, "node_modules"), join(build, "node_modules"), "dir");
  await run("npm", ["run", "build"], build);
}

async function productionDependenciesStage(app: string): Promise<void> {
  for (const input of ["package.json", "package-lock.json"]) cpSync(join(ROOT, input), join(app, input));
  await run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], app);
}

/** A JWKS endpoint serving one fresh RS256 public key. */
async function startJwks(): Promise<Server> {
  const { publicKey } = await generateKeyPair("RS256");
  const body = JSON.stringify({
    keys: [{ ...(await exportJWK(publicKey)), kid: "deploy-test", alg: "RS256" }],
  });
  const server = createServer((_req, res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(body),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return server;
}

describe.skipIf(!hasMain)(
  hasMain ? "the production tree" : "the production tree (skipped: src/main.ts does not exist yet)",
  () => {
    let work = "";
    let app = "";
    let jwks: Server | undefined;
    let jwksUrl = "";

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), "rolemapper-prod-"));
      const build = join(work, "build");
      app = join(work, "app");
      [jwks] = await Promise.all([
        startJwks(),
        buildStage(build),
        productionDependenciesStage(app),
        // Made in this process while npm works, for the tests whose subject is not the first start.
        preparePristineCluster(),
      ]);
      // Runtime stage.
      cpSync(join(build, "dist"), join(app, "dist"), { recursive: true });
      for (const input of RUNTIME_FROM_CONTEXT)
        cpSync(join(ROOT, input), join(app, input), { recursive: true });
      const address = jwks.address();
      if (address === null || typeof address === "string") throw new Error("no JWKS address");
      jwksUrl = `http://127.0.0.1:${address.port}/keys`;
    }, NPM_CI_MS);

    afterAll(async () => {
      await new Promise<void>((resolve) => (jwks ? jwks.close(() => resolve()) : resolve()));
      if (work) rmSync(work, { recursive: true, force: true });
    });

    /** The environment of a start; `pristine` gives it a data directory initialised already (no initdb). */
    async function productionEnv(
      extra: Record<string, string>,
      { pristine = false } = {},
    ): Promise<Record<string, string>> {
      // A data directory of its own: each test starts on a fresh one, whichever ran before.
      const dataDir = mkdtempSync(join(work, "data-"));
      if (pristine) await seedPristineCluster(dataDir);
      return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: work,
        NODE_ENV: "production",
        // Loopback only: this machine's tests never listen beyond it.
        WEBHOOK_HOST: "127.0.0.1",
        WEBHOOK_PORT: String(await freePort()),
        ADMIN_HTTP_HOST: "127.0.0.1",
        ADMIN_HTTP_PORT: String(await freePort()),
        GRPC_HOST: "127.0.0.1",
        GRPC_PORT: String(await freePort()),
        METRICS_HOST: "127.0.0.1",
        METRICS_PORT: String(await freePort()),
        ROLEMAPPING_STORE: "embedded",
        ROLEMAPPING_DATA_DIR: dataDir,
        ROLEMAPPER_API_TOKENS: "deploy-test-token",
        ...extra,
      };
    }

    it("refuses to start in production without JWKS_URL, naming the variable", async () => {
      const started = start("node", ["dist/main.js"], app, await productionEnv({}));
      const code = await exitWithin(started, 60_000);
      expect(code, started.output()).not.toBe(0);
      expect(started.output()).toMatch(/JWKS_URL/);
      expect(started.output()).toMatch(/production/);
    });

    it("ships a bundle whose stack-trace positions fall on lines of readable code, not on one long line", () => {
      const dist = join(app, "dist");
      const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
      const text = files.map((file) => readFileSync(join(dist, file), "utf8")).join("\n");
      // Whitespace-minified, a chunk is a few lines of thousands of characters each (3,000 on average).
      expect(text.length / text.split("\n").length).toBeLessThan(200);
    });

    it("ships ASCII-only chunks, whose sources V8 then holds at one byte a character", () => {
      const dist = join(app, "dist");
      const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
      const wide = files.filter((file) =>
        /[\u{80}-\u{10ffff}]/u.test(readFileSync(join(dist, file), "utf8")),
      );
      expect(wide).toEqual([]);
    });

    it("ships pg without its Cloudflare probe that loads Node 20's undici at every start", () => {
      const dist = join(app, "dist");
      const files = readdirSync(dist, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".js"));
      const text = files.map((file) => readFileSync(join(dist, file), "utf8")).join("\n");
      expect(text).toContain("function isCloudflareRuntime()");
      expect(text).not.toMatch(/new Response\(null, \{ cf:/);
    });

    it("stays up while the Hasura of its pod is not (the pod's start order): /healthz 200, /readyz not 200", async () => {
      // In the pod the sidecar starts first and Hasura only once the sidecar's startup probe (/healthz) passes:
      // a sidecar that waited for its store before answering /healthz would never let Hasura start.
      const env = await productionEnv({
        JWKS_URL: jwksUrl,
        ROLEMAPPING_STORE: "hasura",
        GRAPHQL_URL: `http://127.0.0.1:${await freePort()}/v1/graphql`,
        GRAPHQL_ADMIN_SECRET: "deploy-test-admin-secret",
      });
      const started = start("node", ["dist/main.js"], app, env);
      try {
        const healthz = await waitFor200(`http://127.0.0.1:${env.METRICS_PORT}/healthz`, started, 60_000);
        expect(healthz.status, started.output()).toBe(200);
        const readyz = await fetch(`http://127.0.0.1:${env.METRICS_PORT}/readyz`);
        expect(readyz.status, started.output()).not.toBe(200);
      } finally {
        started.child.kill("SIGKILL");
        await exitWithin(started, 30_000);
      }
    }, 120_000);

    it("starts from `node dist/main.js` with a minimal production config, serves health and stops on SIGTERM", async () => {
      const env = await productionEnv({ JWKS_URL: jwksUrl });
      const started = start("node", ["dist/main.js"], app, env);
      try {
        const healthz = await waitFor200(`http://127.0.0.1:${env.METRICS_PORT}/healthz`, started, 60_000);
        expect(healthz.status, started.output()).toBe(200);
        const webhook = await fetch(`http://127.0.0.1:${env.WEBHOOK_PORT}/v1/health`);
        // A JSON string, as the previous service answered.
        expect(await webhook.json()).toBe("Alive");
        // Kubernetes stops a pod with SIGTERM: the service drains and exits cleanly.
        started.child.kill("SIGTERM");
        expect(await exitWithin(started, 30_000), started.output()).toBe(0);
      } finally {
        started.child.kill("SIGKILL");
      }
    }, 120_000);

    // The shadow mode's calls are made on a thread started from dist/shadow-worker.js, a bundle entry of its own.
    it("relays the previous webhook's answer in shadow mode from the built tree, and stops cleanly", async () => {
      const previous = createServer((_req, res) =>
        res.writeHead(200, { "content-type": "application/json" }).end('{"X-Hasura-Role":"from-previous"}'),
      );
      await new Promise<void>((resolve) => previous.listen(0, "127.0.0.1", resolve));
      const { port } = previous.address() as { port: number };
      const env = await productionEnv(
        {
          JWKS_URL: jwksUrl,
          SHADOW_WEBHOOK_URL: `http://127.0.0.1:${port}/v1/authenticate`,
          SHADOW_ANSWER: "shadow",
          SHUTDOWN_DRAIN_S: "0",
        },
        { pristine: true },
      );
      const started = start("node", ["dist/main.js"], app, env);
      try {
        await waitFor200(`http://127.0.0.1:${env.METRICS_PORT}/healthz`, started, 60_000);
        // The sidecar alone would deny it (no token): the previous service's answer is what comes back.
        const relayed = await fetch(`http://127.0.0.1:${env.WEBHOOK_PORT}/v1/authenticate`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ headers: {}, request: { query: "{ a }" } }),
        });
        expect(relayed.status, started.output()).toBe(200);
        expect(await relayed.json()).toEqual({ "X-Hasura-Role": "from-previous" });
        started.child.kill("SIGTERM");
        expect(await exitWithin(started, 30_000), started.output()).toBe(0);
        expect(started.output()).not.toContain("shadow_worker_failed");
      } finally {
        started.child.kill("SIGKILL");
        previous.closeAllConnections();
        await new Promise((resolve) => previous.close(resolve));
      }
    }, 120_000);

    // dist/ is a bundle whose chunks for tracing and reflection load on first use: these run from it too.
    it("traces a webhook call to the OTLP endpoint and answers gRPC reflection from the built tree", async () => {
      const receiver = await startOtlpReceiver();
      // The first start on an empty data directory is the test above's; this one starts on an initialised one,
      // and stops without the drain (the spans are flushed after it either way).
      const env = await productionEnv(
        { JWKS_URL: jwksUrl, OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, SHUTDOWN_DRAIN_S: "0" },
        { pristine: true },
      );
      const started = start("node", ["dist/main.js"], app, env);
      try {
        await waitFor200(`http://127.0.0.1:${env.METRICS_PORT}/healthz`, started, 60_000);
        const denied = await fetch(`http://127.0.0.1:${env.WEBHOOK_PORT}/v1/authenticate`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ headers: {}, request: { query: "{ a }" } }),
        });
        expect(denied.status, started.output()).toBe(401);
        const services = await listServices(`127.0.0.1:${env.GRPC_PORT}`);
        expect(services).toEqual(expect.arrayContaining(["grpc.health.v1.Health"]));
        started.child.kill("SIGTERM");
        expect(await exitWithin(started, 30_000), started.output()).toBe(0);
        // Spans are flushed on the way out.
        expect(receiver.spanNames, started.output()).toContain("decision");
      } finally {
        started.child.kill("SIGKILL");
        await receiver.close();
      }
    }, 120_000);
  },
);

// The service names gRPC reflection (v1) lists, as grpcurl asks for them.
function listServices(address: string): Promise<string[]> {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve("@grpc/reflection/package.json")), "build/proto");
  const loaded = loadPackageDefinition(
    loadSync("grpc/reflection/v1/reflection.proto", { includeDirs: [root] }),
  ) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (address: string, creds: unknown) => Client } } };
  };
  const client = new loaded.grpc.reflection.v1.ServerReflection(address, credentials.createInsecure());
  type Answer = { listServicesResponse?: { service: { name: string }[] } };
  const stream = (
    client as unknown as { serverReflectionInfo(): NodeJS.ReadWriteStream }
  ).serverReflectionInfo();
  return new Promise((resolve, reject) => {
    stream.on("data", (answer: Answer) => {
      resolve(answer.listServicesResponse?.service.map((service) => service.name) ?? []);
      stream.end();
      client.close();
    });
    stream.on("error", reject);
    stream.write({ listServices: "*" } as never);
  });
}
