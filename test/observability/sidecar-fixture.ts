import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { loadConfig } from "../../src/config/index.js";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import type { Sidecar } from "../../src/wiring/sidecar.js";
import { startSidecar } from "../../src/wiring/start.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { memoryLogger, type MemoryLogger } from "../support/quiet-logger.js";

/** The API credential the fixture configures: name "provisioner", this value. */
export const API_TOKEN = "provisioner-secret-0123456789abcdef";

/** A whole sidecar on ephemeral ports, verifying tokens from a local JWKS issuer, with a role `sales`. */
export interface SidecarFixture {
  readonly sidecar: Sidecar;
  readonly issuer: JwksIssuer;
  readonly log: MemoryLogger;
  readonly admin: string;
  /** The metrics listener (`/metrics` and the probes). */
  readonly metrics: string;
  readonly grpc: RoleMappingApi;
  /** Posts one webhook call as Hasura does; `headers` are the client's. */
  ask(headers: Record<string, string>, query?: string): Promise<number>;
  /** A token for alice, member of group `analysts`. */
  aliceToken(): Promise<string>;
  /** The metrics listener's /metrics text. */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/** Starts the fixture; `env` adds or overrides configuration variables. */
export async function startFixture(
  env: Record<string, string> = {},
  spanExporter?: SpanExporter,
): Promise<SidecarFixture> {
  const issuer = await JwksIssuer.start();
  const dataDir = mkdtempSync(join(tmpdir(), "rolemapper-obs-"));
  const log = memoryLogger();
  const config = loadConfig({
    JWKS_URL: issuer.jwksUrl,
    JWT_AUDIENCE: issuer.audience,
    JWT_ISSUER: issuer.url,
    ROLEMAPPER_API_TOKENS: `provisioner:${API_TOKEN}`,
    ROLEMAPPING_DATA_DIR: dataDir,
    WEBHOOK_PORT: "0",
    ADMIN_HTTP_PORT: "0",
    GRPC_PORT: "0",
    METRICS_PORT: "0",
    ...env,
  });
  const sidecar = await startSidecar(config, log.logger, spanExporter ? { spanExporter } : {});
  const ports = sidecar.ports();
  const client = new RoleMappingServiceClient(`127.0.0.1:${ports.grpcPort}`, credentials.createInsecure());
  await sidecar.service.upsertRole({
    roleId: "sales",
    componentId: "urn:sales",
    rootFields: ["sales_orders"],
  });
  await sidecar.service.setGroupRoles("sales", ["group:analysts"]);
  const admin = `http://127.0.0.1:${ports.adminPort}`;
  const metrics = `http://127.0.0.1:${ports.metricsPort}`;
  return {
    sidecar,
    issuer,
    log,
    admin,
    metrics,
    grpc: promiseApi(client, bearer(API_TOKEN)),
    async ask(headers, query = "{ sales_orders { id } }") {
      const response = await fetch(`http://127.0.0.1:${ports.webhookPort}/v1/authenticate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ headers, request: { query, variables: { secretVariable: "v-42-hidden" } } }),
      });
      await response.arrayBuffer();
      return response.status;
    },
    aliceToken: () => issuer.sign({ unique_name: "alice@corp.com", groups: ["analysts"] }),
    async scrape() {
      const response = await fetch(`${metrics}/metrics`);
      return response.text();
    },
    async close() {
      client.close();
      await sidecar.stop(1000);
      await issuer.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The value of one sample in a Prometheus text exposition: the line for `name` whose labels include all of
 * `labels`; undefined when there is none.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const present = new Map<string, string>();
    for (const pair of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      present.set(pair[1] as string, pair[2] as string);
    }
    if (Object.entries(labels).every(([key, value]) => present.get(key) === value)) return Number(match[3]);
  }
  return undefined;
}
