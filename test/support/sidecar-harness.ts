import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.js";
import type { Sidecar, SidecarOverrides } from "../../src/wiring/sidecar.js";
import { startSidecar } from "../../src/wiring/start.js";
import type { JwksIssuer } from "./jwks-issuer.js";
import { memoryLogger, type MemoryLogger } from "./quiet-logger.js";

/** A whole sidecar on ephemeral ports trusting `issuer`, with its log kept in memory. */
export interface RunningSidecar {
  readonly sidecar: Sidecar;
  readonly log: MemoryLogger;
  /** Posts `body` to the webhook as Hasura does; resolves with the status and JSON body. */
  post(body: unknown): Promise<{ status: number; body: unknown }>;
  /** Posts a query with a bearer token. */
  ask(token: string, query: string): Promise<{ status: number; body: unknown }>;
  stop(): Promise<void>;
}

/**
 * Starts a sidecar verifying `issuer`'s tokens; `env` adds or overrides variables (store, snapshot timing), and
 * `overrides` replaces parts the configuration would build (e.g. an in-memory store).
 */
export async function runSidecar(
  issuer: JwksIssuer,
  env: Record<string, string>,
  overrides: SidecarOverrides = {},
): Promise<RunningSidecar> {
  const dataDir = mkdtempSync(join(tmpdir(), "rolemapper-test-"));
  const log = memoryLogger();
  const config = loadConfig({
    JWKS_URL: issuer.jwksUrl,
    JWT_AUDIENCE: issuer.audience,
    JWT_ISSUER: issuer.url,
    ROLEMAPPER_API_TOKENS: "test:0123456789abcdef0123",
    ROLEMAPPING_DATA_DIR: dataDir,
    WEBHOOK_PORT: "0",
    ADMIN_HTTP_PORT: "0",
    GRPC_PORT: "0",
    METRICS_PORT: "0",
    ...env,
  });
  const sidecar = await startSidecar(config, log.logger, overrides);
  const url = `http://127.0.0.1:${sidecar.ports().webhookPort}/v1/authenticate`;
  const post = async (body: unknown) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  return {
    sidecar,
    log,
    post,
    ask: (token, query) => post({ headers: { Authorization: `Bearer ${token}` }, request: { query } }),
    async stop() {
      await sidecar.stop(1000);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
