import { ConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./logger.js";
import { startSidecar } from "./wiring/start.js";

// Wiring only: configuration, logger, the sidecar, and the process signals.

let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`hasura-rolemapper: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const logger = createLogger(config.logLevel);
try {
  const sidecar = await startSidecar(config, logger);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ event: "shutdown", signal }, "shutting down");
    sidecar.stop(config.shutdown.graceMs, config.shutdown.drainMs).then(
      () => {
        logger.info({ event: "stopped" }, "stopped");
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ event: "shutdown_failed", err: error }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  logger.fatal({ event: "start_failed", err: message }, `cannot start: ${message}`);
  process.exit(1);
}
