import { credentials } from "@grpc/grpc-js";
import type { SpanExporter } from "@opentelemetry/sdk-trace-base";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import type { Sidecar } from "../../src/wiring/sidecar.js";
import { bearer, promiseApi, type RoleMappingApi } from "../grpc/client.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import type { RecordingLogger } from "../support/recording-logger.js";
import { issuerEnv, startTestSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

/** The API credential the fixture configures: name "provisioner", this value. */
export const API_TOKEN = "provisioner-secret-0123456789abcdef";

/** A whole sidecar on ephemeral ports, verifying tokens from a local JWKS issuer, with a role `sales`. */
export interface SidecarFixture {
  readonly sidecar: Sidecar;
  readonly issuer: JwksIssuer;
  readonly log: RecordingLogger;
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
  const running = await startTestSidecar(
    { ...issuerEnv(issuer), ROLEMAPPER_API_TOKENS: `provisioner:${API_TOKEN}`, ...env },
    spanExporter ? { spanExporter } : {},
  );
  const { sidecar, log, adminUrl: admin, metricsUrl: metrics } = running;
  const client = new RoleMappingServiceClient(running.grpcAddress, credentials.createInsecure());
  await sidecar.service.upsertRole(INTERNAL_CALLER, {
    roleId: "sales",
    componentId: "urn:sales",
    rootFields: ["sales_orders"],
  });
  await sidecar.service.setGroupRoles(INTERNAL_CALLER, "sales", ["group:analysts"]);
  return {
    sidecar,
    issuer,
    log,
    admin,
    metrics,
    grpc: promiseApi(client, bearer(API_TOKEN)),
    async ask(headers, query = "{ sales_orders { id } }") {
      const response = await fetch(`${running.webhookUrl}/v1/authenticate`, {
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
      await running.stop();
      await issuer.close();
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
