import type { Logger } from "pino";
import type { CombinedRolesConfig } from "../config-combined.js";
import type { CombineOptions } from "../core/role-cover.js";
import { CombinedRoleRegistry } from "../hasura-metadata/combined-role-registry.js";
import { createMetadataClient } from "../hasura-metadata/metadata-client.js";
import { RetryingPeriod } from "../hasura-metadata/retrying-period.js";
import type { SidecarMetrics } from "../observability/metrics.js";

/** Combined roles wired: the decision options, the registry, and its refresh to start and stop. */
export interface CombinedRolesWiring {
  readonly options: CombineOptions;
  readonly roles: CombinedRoleRegistry;
  /** Starts learning the existing combined roles in the background: Hasura may start after the sidecar. */
  start(): void;
  stop(): void;
}

/** The first retry of a failed export_metadata; doubled after each further failure up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

/**
 * Builds the registry over Hasura's metadata API, refreshed from `export_metadata` in the background at start
 * and every `refreshMs` (the snapshot's full refresh period), so roles dropped elsewhere are forgotten here too;
 * a failed export is tried again sooner, backing off. Until one succeeds, roles are created on demand.
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
  let failing = 0;
  const refresh = new RetryingPeriod({
    async step() {
      await roles.refresh();
      if (failing > 0) {
        logger.info(
          { event: "combined_roles_learned", roles: roles.roles().size, failed_attempts: failing },
          "combined roles: learnt the existing ones from export_metadata",
        );
      }
      failing = 0;
    },
    periodMs: refreshMs,
    firstRetryMs: FIRST_RETRY_MS,
    maxRetryMs: MAX_RETRY_MS,
    onFailure(error, retryInMs, failures) {
      failing = failures;
      metrics.observeCombinedRole("failed");
      logger.warn(
        {
          event: "combined_roles_refresh_failed",
          err: error instanceof Error ? error.message : String(error),
          retry_in_ms: retryInMs,
        },
        "combined roles: export_metadata failed; missing roles are created on demand meanwhile",
      );
    },
  });
  return {
    options: { maxParents: config.maxParents, prefix: config.prefix },
    roles,
    start: () => refresh.start(),
    stop: () => refresh.stop(),
  };
}
