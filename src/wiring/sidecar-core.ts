import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { Authorizer } from "../core/authorizer.js";
import type { GroupProvider } from "../core/identity.js";
import { DEFAULT_MAPPING_LIMITS, MappingService } from "../core/mapping-service.js";
import { DEFAULT_OPERATION_LIMITS } from "../core/operation.js";
import { OperationCache } from "../core/operation-cache.js";
import { reservedRoleIds } from "../core/reserved-roles.js";
import { SnapshotSync } from "../core/snapshot-sync.js";
import type { RoleMappingStore } from "../core/store-port.js";
import type { SidecarMetrics } from "../observability/metrics.js";
import {
  createSidecarObservability,
  type SidecarObservability,
} from "../observability/sidecar-observability.js";
import { buildCombinedRoles, type CombinedRolesWiring } from "./combined-roles.js";
import { buildGroups } from "./groups.js";
import { buildIdentity, remoteKeySource, type Identity } from "./identity.js";
import type { SidecarOverrides } from "./sidecar.js";
import { openStore } from "./store.js";

/** The sidecar without its listeners: observability, the store and its snapshot, identity, the core services. */
export interface SidecarCore {
  readonly observability: SidecarObservability;
  readonly metrics: SidecarMetrics;
  readonly store: RoleMappingStore;
  readonly identity: Identity;
  readonly sync: SnapshotSync;
  readonly service: MappingService;
  readonly operations: OperationCache;
  readonly authorizer: Authorizer;
  /** COMBINED_ROLES=hasura: the registry of combined roles and its refresh; undefined when off. */
  readonly combined: CombinedRolesWiring | undefined;
}

/** Builds everything the listeners serve, from one validated configuration; nothing runs until started. */
export async function buildSidecarCore(
  config: Config,
  logger: Logger,
  overrides: SidecarOverrides,
): Promise<SidecarCore> {
  const observability = await createSidecarObservability({
    logger,
    otlpEndpoint: config.otlpEndpoint,
    spanExporter: overrides.spanExporter,
  });
  const { metrics } = observability;
  const opened = overrides.store ?? (await openStore(config.store, logger));
  const store = observability.wrapStore(opened);
  const reservedRoles = reservedRoleIds(config.reservedRoleIds);
  const identity = buildIdentity(
    config,
    logger,
    overrides.keySource ?? remoteKeySource(config, logger),
    (target, attempt) => metrics.observeIdentityCall(target, attempt.status, attempt.throttled),
  );
  const sync = buildSnapshotSync(config, store, logger, reservedRoles, identity.pinned !== undefined);
  const { groups, pinning } = buildGroups(identity, store, sync, logger, metrics);
  const combined =
    config.combinedRoles &&
    buildCombinedRoles(config.combinedRoles, config.snapshot.refreshMs, logger, metrics, {
      ledger: opened.combinedRoleLedger?.(),
      clock: overrides.combinedRolesClock,
    });
  // A DeleteRole elsewhere dropped the combined roles of the deleted role: learnt with the role's deletion.
  if (combined) sync.onRolesDeleted((roleIds) => combined.roles.forgetWithParents(roleIds));
  const { maxSubjects, maxRootFields } = config.limits;
  const service = new MappingService(store, sync, {
    limits: { maxSubjects, maxRootFields, maxPageSize: DEFAULT_MAPPING_LIMITS.maxPageSize },
    reserved: reservedRoles,
    pinner: pinning,
    combined: combined?.roles,
    audit: observability.writeAudit,
  });
  const operations = new OperationCache({
    maxChars: config.webhook.operationCacheChars,
    limits: {
      maxQueryLength: config.webhook.maxQueryLength,
      maxTokens: config.webhook.maxTokens,
      maxRootFields: DEFAULT_OPERATION_LIMITS.maxRootFields,
    },
  });
  const authorizer = buildAuthorizer(config, { observability, identity, groups, sync, operations, combined });
  return { observability, metrics, store, identity, sync, service, operations, authorizer, combined };
}

function buildSnapshotSync(
  config: Config,
  store: RoleMappingStore,
  logger: Logger,
  reservedRoles: ReadonlySet<string>,
  groupPins: boolean,
): SnapshotSync {
  const { snapshot } = config;
  return new SnapshotSync(store, {
    // Following the journal, the safety net's period; reloading in full (as before the journal), the refresh's.
    verifyMs: snapshot.sync === "full" ? snapshot.refreshMs : snapshot.verifyMs,
    mode: snapshot.sync,
    listen: snapshot.listen,
    pollMs: Math.max(50, Math.min(1000, snapshot.maxLagMs / 2)),
    maxStalenessMs: snapshot.maxStalenessMs,
    logger,
    reservedRoles,
    groupPins,
  });
}

// The webhook's decisions: verified (and traced) tokens, groups, the fresh snapshot, the operation cache.
function buildAuthorizer(
  config: Config,
  parts: Pick<SidecarCore, "observability" | "identity" | "sync" | "operations" | "combined"> & {
    readonly groups: GroupProvider;
  },
): Authorizer {
  const { observability, identity, groups, sync, operations, combined } = parts;
  return new Authorizer({
    verifier: observability.wrapVerifier(identity.verifier),
    groups: observability.wrapGroups(groups),
    userName: identity.userName,
    // Bound, not wrapped: the wiring runs no code of its own on a webhook request.
    snapshot: sync.fresh.bind(sync),
    operations,
    tokenHeaders: config.identity.tokenHeaders,
    allowIntrospection: config.webhook.allowIntrospection,
    maxBatch: config.webhook.maxBatch,
    websocketSessionMaxS: config.webhook.websocketSessionMaxS,
    combined: combined && { options: combined.options, roles: combined.roles },
  });
}
