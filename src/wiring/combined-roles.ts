import type { Logger } from "pino";
import type { CombinedRolesConfig } from "../config-combined.js";
import type { CombineOptions } from "../core/role-cover.js";
import { CombinedRoleRegistry } from "../hasura-metadata/combined-role-registry.js";
import { createMetadataClient } from "../hasura-metadata/metadata-client.js";
import type { SidecarMetrics } from "../observability/metrics.js";

/** Combined roles wired: the decision options, the registry, and its refresh to start and stop. */
export interface CombinedRolesWiring {
  readonly options: CombineOptions;
  readonly roles: CombinedRoleRegistry;
  /** Learns the existing combined roles now (a failure is logged: Hasura may start after the sidecar). */
  start(): Promise<void>;
  stop(): void;
}

/**
 * Builds the registry over Hasura's metadata API, refreshed from `export_metadata` at start and every
 * `refreshMs` (the snapshot's full refresh period), so roles dropped elsewhere are forgotten here too.
 */
export function buildCombinedRoles(
  config: CombinedRolesConfig,
  refreshMs: number,
  logger: Logger,
  metrics: SidecarMetrics,
): CombinedRolesWiring {
  const roles = new CombinedRoleRegistry({
    call: createMetadataClient({ url: config.metadataUrl, adminSecret: config.adminSecret }),
    prefix: config.prefix,
    createTimeoutMs: config.createTimeoutMs,
    maxRoles: config.maxRoles,
    logger,
    onEvent: (event) => metrics.observeCombinedRole(event),
  });
  let timer: NodeJS.Timeout | undefined;
  const refresh = async (): Promise<void> => {
    try {
      await roles.refresh();
    } catch (error) {
      metrics.observeCombinedRole("failed");
      logger.warn(
        {
          event: "combined_roles_refresh_failed",
          err: error instanceof Error ? error.message : String(error),
        },
        "combined roles: export_metadata failed; missing roles are created on demand",
      );
    }
  };
  return {
    options: { maxParents: config.maxParents, prefix: config.prefix },
    roles,
    async start() {
      timer = setInterval(() => void refresh(), refreshMs);
      timer.unref();
      await refresh();
    },
    stop() {
      if (timer) clearInterval(timer);
    },
  };
}
