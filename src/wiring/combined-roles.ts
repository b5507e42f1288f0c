import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Logger } from "pino";
import type { CombinedRolesConfig } from "../config/index.js";
import type { CombinedRoleLedger } from "../core/combined-roles.js";
import type { CombineOptions } from "../core/role-cover.js";
import type { IdleDropOptions } from "../hasura-metadata/combined-role-uses.js";
import { CombinedRoleRegistry } from "../hasura-metadata/combined-role-registry.js";
import { CombinedRoleUpkeep } from "../hasura-metadata/combined-role-upkeep.js";
import { createMetadataClient } from "../hasura-metadata/metadata-client.js";
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

/** The first retry of a failed export_metadata (or ledger); doubled after each further failure up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;

/**
 * Builds the registry over Hasura's metadata API. In the background, at start and every `refreshMs` (the
 * snapshot's full refresh period), it records this replica's uses in the store's ledger, learns the roles from
 * `export_metadata` and sweeps the idle ones (COMBINED_ROLE_IDLE_S); a failed export is tried again sooner,
 * backing off, and so is the ledger's part alone when only it failed. Until an export succeeds, roles are created
 * on demand.
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
  const upkeep = new CombinedRoleUpkeep(roles, {
    periodMs: refreshMs,
    firstRetryMs: FIRST_RETRY_MS,
    maxRetryMs: MAX_RETRY_MS,
    logger,
    onEvent: (event) => metrics.observeCombinedRole(event),
  });
  return {
    options: { maxParents: config.maxParents, prefix: config.prefix },
    roles,
    start: () => upkeep.start(),
    stop: () => upkeep.stop(),
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
