/**
 * The sidecar as deployed, in its own process: the compiled output in dist/ (run.ts builds it first), configuration
 * from the environment (JWKS_URL set, so not in development mode; ports 0), the embedded store. Reports the bound
 * ports.
 */
import type * as Config from "../../src/config/index.js";
import type * as Logger from "../../src/logger.js";
import type * as Sidecar from "../../src/wiring/sidecar.js";
import { ROOT } from "./build.js";
import { reportFailure, serveUntilStopped } from "./child.js";
import { acceptProfiling } from "./profiler.js";

// Typed by the sources, loaded from what they compile to.
const fromDist = async <T>(path: string): Promise<T> => (await import(`${ROOT}dist/${path}`)) as T;

try {
  const { loadConfig } = await fromDist<typeof Config>("config/index.js");
  const { createLogger } = await fromDist<typeof Logger>("logger.js");
  const { buildSidecar } = await fromDist<typeof Sidecar>("wiring/sidecar.js");
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel);
  const sidecar = await buildSidecar(config, logger);
  const addresses = await sidecar.start();
  acceptProfiling();
  serveUntilStopped(addresses, () => sidecar.stop(1000));
} catch (error) {
  reportFailure(error);
}
