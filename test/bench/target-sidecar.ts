/**
 * The sidecar as deployed, in its own process: configuration from the environment (JWKS_URL set, so not in
 * development mode; ports 0), the embedded store. Reports the bound ports.
 */
import { loadConfig } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { buildSidecar } from "../../src/wiring/sidecar.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { acceptProfiling } from "./profiler.js";

try {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const sidecar = await buildSidecar(config, logger);
  const addresses = await sidecar.start();
  acceptProfiling();
  serveUntilStopped(addresses, () => sidecar.stop(1000));
} catch (error) {
  reportFailure(error);
}
