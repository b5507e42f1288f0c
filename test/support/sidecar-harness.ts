import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../../src/config/index.js";
import { openDevIssuer, type DevIssuer } from "../../src/identity/dev-issuer.js";
import type { Sidecar, SidecarAddresses, SidecarOverrides } from "../../src/wiring/sidecar.js";
import { startSidecar } from "../../src/wiring/start.js";
import type { JwksIssuer } from "./jwks-issuer.js";
import { RecordingLogger } from "./recording-logger.js";

/** A whole sidecar started as main.ts starts it, on 127.0.0.1 ephemeral ports, with its log kept in memory. */
export interface RunningSidecar {
  readonly sidecar: Sidecar;
  readonly config: Config;
  readonly log: RecordingLogger;
  readonly ports: SidecarAddresses;
  /** The webhook listener's origin (`/v1/authenticate`, `/readyz`, …). */
  readonly webhookUrl: string;
  readonly adminUrl: string;
  readonly metricsUrl: string;
  readonly grpcAddress: string;
  readonly dataDir: string;
  /** The local development issuer (development mode only: no JWKS_URL given). */
  readonly issuer: DevIssuer | undefined;
  /** Posts `body` to the webhook as Hasura does; resolves with the status and JSON body. */
  post(body: unknown): Promise<{ status: number; body: unknown }>;
  /** Posts a query with a bearer token. */
  ask(token: string, query: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/** Variables every test sidecar gets: loopback, ephemeral ports. */
const BASE_ENV: Record<string, string> = {
  WEBHOOK_HOST: "127.0.0.1",
  ADMIN_HTTP_HOST: "127.0.0.1",
  GRPC_HOST: "127.0.0.1",
  METRICS_HOST: "127.0.0.1",
  WEBHOOK_PORT: "0",
  ADMIN_HTTP_PORT: "0",
  GRPC_PORT: "0",
  METRICS_PORT: "0",
};

/** The API token `issuerEnv` configures (caller "test"). */
export const API_TOKEN = "0123456789abcdef0123";

/** Variables of a sidecar verifying `issuer`'s tokens, with one API token (API_TOKEN). */
export function issuerEnv(issuer: JwksIssuer): Record<string, string> {
  return {
    JWKS_URL: issuer.jwksUrl,
    JWT_AUDIENCE: issuer.audience,
    JWT_ISSUER: issuer.url,
    ROLEMAPPER_API_TOKENS: `test:${API_TOKEN}`,
  };
}

/**
 * Starts a sidecar the way main.ts does (loadConfig → startSidecar), in development mode unless `env` sets
 * JWKS_URL (see `issuerEnv`). `overrides` replaces parts the configuration would build (e.g. an in-memory
 * store); `dataDir` reuses a directory (a restarted replica), otherwise a fresh one is made and removed.
 */
export async function startTestSidecar(
  env: Record<string, string> = {},
  overrides: SidecarOverrides = {},
  dataDir?: string,
): Promise<RunningSidecar> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "rolemapper-test-")));
  const config = loadConfig({ ...BASE_ENV, ROLEMAPPING_DATA_DIR: dir, ...env });
  // A directory made here is fresh: its embedded store starts from a copy of a pristine cluster, not initdb.
  const fresh = dataDir === undefined && config.store.dataDir === dir;
  if (fresh && config.store.kind === "embedded" && overrides.store === undefined) {
    // Loaded only here: a sidecar child process on a FakeStore (test/hardening) never loads vitest or PGlite.
    const { seedPristineCluster } = await import("./pglite-template.js");
    await seedPristineCluster(dir);
  }
  const log = new RecordingLogger(config.logLevel);
  const sidecar = await startSidecar(config, log.pino, overrides);
  const ports = sidecar.ports();
  const webhookUrl = `http://127.0.0.1:${ports.webhookPort}`;
  const post = async (body: unknown) => {
    const response = await fetch(`${webhookUrl}/v1/authenticate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  let stopped = false;
  return {
    sidecar,
    config,
    log,
    ports,
    webhookUrl,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    metricsUrl: `http://127.0.0.1:${ports.metricsPort}`,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    dataDir: dir,
    issuer: config.devMode ? await openDevIssuer(dir) : undefined,
    post,
    ask: (token, query) => post({ headers: { Authorization: `Bearer ${token}` }, request: { query } }),
    async stop() {
      if (stopped) return;
      stopped = true;
      await sidecar.stop(1_000);
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
