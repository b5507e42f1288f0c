import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { loadConfig, type Config } from "../../../src/config/index.js";
import { openDevIssuer, type DevIssuer } from "../../../src/identity/dev-issuer.js";
import { startSidecar } from "../../../src/wiring/start.js";
import type { Sidecar, SidecarAddresses, SidecarOverrides } from "../../../src/wiring/sidecar.js";

/** A whole sidecar started from environment variables on 127.0.0.1 ephemeral ports, with its own data dir. */
export interface RunningSidecar {
  readonly sidecar: Sidecar;
  readonly config: Config;
  readonly ports: SidecarAddresses;
  readonly webhookUrl: string;
  readonly adminUrl: string;
  readonly grpcAddress: string;
  readonly dataDir: string;
  /** The local development issuer (development mode only: no JWKS_URL given). */
  readonly issuer: DevIssuer | undefined;
  stop(): Promise<void>;
}

/** Variables every hardening sidecar gets: loopback, ephemeral ports, no log output. */
const BASE_ENV: Record<string, string> = {
  WEBHOOK_HOST: "127.0.0.1",
  ADMIN_HTTP_HOST: "127.0.0.1",
  GRPC_HOST: "127.0.0.1",
  METRICS_HOST: "127.0.0.1",
  WEBHOOK_PORT: "0",
  ADMIN_HTTP_PORT: "0",
  GRPC_PORT: "0",
  METRICS_PORT: "0",
  LOG_LEVEL: "silent",
};

/**
 * Starts the sidecar the way main.ts does (loadConfig → startSidecar), in development mode unless `env` sets
 * JWKS_URL. `dataDir` reuses a directory (a restarted replica); otherwise a fresh one is made and removed.
 */
export async function startTestSidecar(
  env: Record<string, string> = {},
  overrides: SidecarOverrides = {},
  dataDir?: string,
): Promise<RunningSidecar> {
  const dir = dataDir ?? (await mkdtemp(join(tmpdir(), "rolemapper-hardening-")));
  const config = loadConfig({ ...BASE_ENV, ROLEMAPPING_DATA_DIR: dir, ...env });
  const captured: { ports?: SidecarAddresses } = {};
  const sidecar = await startSidecar(config, portCapturingLogger(captured), overrides);
  const ports = captured.ports;
  if (!ports) throw new Error("the sidecar started without logging its ports");
  const issuer = config.devMode ? await openDevIssuer(dir) : undefined;
  let stopped = false;
  return {
    sidecar,
    config,
    ports,
    webhookUrl: `http://127.0.0.1:${ports.webhookPort}`,
    adminUrl: `http://127.0.0.1:${ports.adminPort}`,
    grpcAddress: `127.0.0.1:${ports.grpcPort}`,
    dataDir: dir,
    issuer,
    async stop() {
      if (stopped) return;
      stopped = true;
      await sidecar.stop(1_000);
      if (dataDir === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

// startSidecar logs the bound ports once ("listening"); every other line (decisions, audit) is dropped here.
function portCapturingLogger(into: { ports?: SidecarAddresses }) {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      if (text.includes('"event":"listening"')) {
        const line = JSON.parse(text) as SidecarAddresses;
        into.ports = {
          webhookPort: line.webhookPort,
          adminPort: line.adminPort,
          grpcPort: line.grpcPort,
          metricsPort: line.metricsPort,
        };
      }
      done();
    },
  });
  return pino({ level: "info" }, sink);
}
