import type { Logger } from "pino";
import { configSummary, type Config } from "../config/index.js";
import { DEV_AUDIENCE, DEV_ISSUER, openDevIssuer } from "../identity/dev-issuer.js";
import { createLocalKeySet } from "../identity/key-set.js";
import { seedSampleMapping } from "./sample-mapping.js";
import { buildSidecar, type Sidecar, type SidecarOverrides } from "./sidecar.js";

/** Builds and starts the sidecar from the configuration, in development mode when no JWKS is configured. */
export async function startSidecar(
  config: Config,
  logger: Logger,
  overrides: SidecarOverrides = {},
): Promise<Sidecar> {
  logger.info({ event: "config", config: configSummary(config) }, "starting hasura-rolemapper");
  if (config.api.insecure && !config.devMode) {
    logger.warn(
      { event: "api_insecure" },
      "ROLEMAPPER_API_INSECURE=true: the RoleMapping API accepts calls without credentials",
    );
  }
  let devOverrides: SidecarOverrides = {};
  if (config.devMode) {
    const issuer = await openDevIssuer(config.store.dataDir);
    const jwks = issuer.jwks();
    devOverrides = {
      keySource: { keys: createLocalKeySet(jwks), issuer: [DEV_ISSUER], audience: [DEV_AUDIENCE] },
      devJwks: () => jwks,
    };
    logger.warn(
      { event: "development_mode" },
      "DEVELOPMENT MODE: no JWKS_URL, tokens come from the LOCAL DEVELOPMENT ISSUER (npm run token) and the " +
        "RoleMapping API needs no credentials. Never run this way with real data; NODE_ENV=production refuses it.",
    );
  }
  const sidecar = await buildSidecar(config, logger, { ...devOverrides, ...overrides });
  const addresses = await sidecar.start();
  if (config.devMode) await seedSampleMapping(sidecar.service, logger);
  logger.info({ event: "listening", ...addresses }, "ready");
  return sidecar;
}
