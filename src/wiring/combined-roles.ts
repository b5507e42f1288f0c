import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { CombinedRolesConfig } from "../config/index.js";
import type { CombinedRoleLedger } from "../core/combined-roles.js";
import type { CombineOptions } from "../core/role-cover.js";
import type { IdleDropOptions } from "../hasura-metadata/combined-role-uses.js";
import { CombinedRoleRegistry, CombinedRoleUpkeepFailed } from "../hasura-metadata/combined-role-registry.js";
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

/** What COMBINED_ROLE_IDLE_S goes by: the time, and how to wait (tests drive both). */
export interface CombinedRolesClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

/** The first retry of a failed export_metadata; doubled after each further failure up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

/**
 * Builds the registry over Hasura's metadata API. In the background, at start and every `refreshMs` (the
 * snapshot's full refresh period), it records this replica's uses in the store's ledger, learns the roles from
 * `export_metadata` and sweeps the idle ones (COMBINED_ROLE_IDLE_S); a failed round is tried again sooner,
 * backing off. Until an export succeeds, roles are created on demand.
 */
export function buildCombinedRoles(
  config: CombinedRolesConfig,
  refreshMs: number,
  logger: Logger,
  metrics: SidecarMetrics,
  shared: { ledger: CombinedRoleLedger | undefined; clock?: CombinedRolesClock | undefined },
): CombinedRolesWiring {
  const idle = idleDrops(config, shared.ledger, shared.clock, logger);
  const roles = new CombinedRoleRegistry({
    call: createMetadataClient({ url: config.metadataUrl, adminSecret: config.adminSecret }),
    prefix: config.prefix,
    createTimeoutMs: config.createTimeoutMs,
    maxRoles: config.maxRoles,
    logger,
    onEvent: (event) => metrics.observeCombinedRole(event),
    ...(idle ? { idle } : {}),
  });
  let failing = 0;
  const refresh = new RetryingPeriod({
    async step() {
      await roles.upkeep();
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
      // A step of the ledger or a sweep's drop: logged and counted by the registry as it failed.
      if (error instanceof CombinedRoleUpkeepFailed) return;
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

// COMBINED_ROLE_IDLE_S: on when set above 0 and the store keeps the ledger (every store of the configuration does).
function idleDrops(
  config: CombinedRolesConfig,
  ledger: CombinedRoleLedger | undefined,
  clock: CombinedRolesClock | undefined,
  logger: Logger,
): IdleDropOptions | undefined {
  if (config.idleMs === 0) return undefined;
  if (ledger === undefined) {
    logger.warn(
      { event: "combined_roles_kept" },
      "combined roles: COMBINED_ROLE_IDLE_S needs the store's ledger, which this store has not; idle ones are kept",
    );
    return undefined;
  }
  const holder = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  return { ledger, idleMs: config.idleMs, holder, ...(clock ?? {}) };
}
