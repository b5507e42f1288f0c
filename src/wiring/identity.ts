import type { Logger } from "pino";
import type { Config } from "../config/index.js";
import { InvalidArgumentError } from "../core/errors.js";
import type {
  DirectoryGroupProvider,
  GroupDirectory,
  GroupProvider,
  TokenVerifier,
} from "../core/identity.js";
import { createClaimsGroupProvider } from "../identity/claims-groups.js";
import { createAzureGraph } from "../identity/graph-groups.js";
import { createJwtVerifier } from "../identity/jwt-verifier.js";
import type { KeySet } from "../identity/key-set.js";
import type { HttpAttempt } from "../identity/http-retry.js";
import { createRemoteKeySet } from "../identity/remote-key-set.js";
import type { CacheStats } from "../identity/single-flight-cache.js";
import { createCachingVerifier } from "../identity/token-cache.js";
import { userNameFromClaims } from "../identity/user-claim.js";

/** Where group names must be pinned (Entra display names): the caller's groups with their ids, and name lookups. */
export interface PinnedGroupSource {
  readonly groups: DirectoryGroupProvider;
  readonly directory: GroupDirectory;
}

/** The identity half of the authorizer. */
export interface Identity {
  readonly verifier: TokenVerifier;
  /** Groups by name as they come (claims; Graph with AZURE_GROUP_NAME_ATTRIBUTE=id); undefined when pinned. */
  readonly groups: GroupProvider | undefined;
  /** Set with GROUPS_PROVIDER=azure and AZURE_GROUP_NAME_ATTRIBUTE=displayName: names count through pins. */
  readonly pinned: PinnedGroupSource | undefined;
  readonly userName: (claims: Readonly<Record<string, unknown>>) => string;
  /** The identity caches present (`token`, `group`), for metrics. */
  readonly caches: Readonly<Record<string, () => CacheStats>>;
}

/** Told of every HTTP attempt to Graph (`graph`) or the Azure token endpoint (`azure_token`), for metrics. */
export type IdentityCallObserver = (target: "graph" | "azure_token", attempt: HttpAttempt) => void;

/** Where tokens are verified: the configured JWKS, or in development mode the local issuer's keys. */
export interface KeySource {
  readonly keys: KeySet;
  readonly issuer?: readonly string[];
  readonly audience?: readonly string[];
}

/** Builds token verification and group resolution from the configuration. */
export function buildIdentity(
  config: Config,
  logger: Logger,
  source: KeySource,
  onHttpAttempt?: IdentityCallObserver,
): Identity {
  const { identity } = config;
  const parsed = identity.jwtOptions;
  for (const warning of parsed.warnings)
    logger.warn({ event: "config_warning", variable: "JWT_OPTIONS" }, warning);
  const verifier = createJwtVerifier({
    keys: source.keys,
    algorithms: identity.algorithms,
    audience: source.audience ?? identity.audience,
    issuer: source.issuer ?? identity.issuer,
    claimOptions: parsed.options,
    maxTokenBytes: identity.maxTokenBytes,
    maxTokenLifetimeSeconds: identity.maxTokenLifetimeS,
    // The development issuer's tokens carry no tenant: an AZURE_TENANT_ID left in a developer's shell stays unused.
    azureTenantId: config.devMode ? undefined : identity.azureTenantId,
  });
  const cached =
    identity.tokenCacheMax > 0
      ? createCachingVerifier(verifier, {
          maxEntries: identity.tokenCacheMax,
          maxLifetimeMs: identity.maxTokenLifetimeS * 1000,
        })
      : undefined;
  const groups = buildGroups(config, logger, onHttpAttempt);
  const caches: Record<string, () => CacheStats> = {};
  if (cached) caches.token = () => cached.stats();
  if (groups.stats) caches.group = groups.stats;
  return {
    verifier: cached ?? verifier,
    groups: groups.names,
    pinned: groups.pinned,
    userName: (claims) => userNameFromClaims(claims, identity.userClaims, identity.userClaimFormat),
    caches,
  };
}

/** The remote key set of JWKS_URL (config has refused Entra keys that bind no tenant or no audience). */
export function remoteKeySource(config: Config, logger: Logger): KeySource {
  const url = config.identity.jwksUrl;
  if (url === undefined) throw new InvalidArgumentError("JWKS_URL", "required outside development mode");
  const keys = createRemoteKeySet({
    url,
    onFetchError: (error) =>
      logger.warn({ event: "jwks_fetch_failed", err: error.message }, "JWKS fetch failed"),
  });
  return { keys };
}

function buildGroups(
  config: Config,
  logger: Logger,
  onHttpAttempt: IdentityCallObserver | undefined,
): { names?: GroupProvider; pinned?: PinnedGroupSource; stats?: () => CacheStats } {
  const { azure } = config.groups;
  if (config.groups.provider === "claims" || azure === undefined) {
    return { names: createClaimsGroupProvider({ claim: config.groups.claim }) };
  }
  const graph = createAzureGraph({
    tenantId: azure.tenantId,
    clientId: azure.clientId,
    clientSecret: azure.clientSecret,
    scopes: azure.scopes,
    authorityHost: azure.authorityHost,
    graphBaseUrl: azure.graphBaseUrl,
    nameAttribute: azure.groupNameAttribute,
    trustTokenGroups: azure.trustTokenGroups,
    cacheTtlMs: config.groups.cacheTtlS * 1000,
    cacheMaxEntries: config.groups.cacheMax,
    logger,
    ...(onHttpAttempt ? { onHttpAttempt } : {}),
  });
  const stats = () => graph.groups.stats();
  // Object ids are unique, display names are not: only display names need pins (issue 13).
  if (azure.groupNameAttribute === "id") return { names: graph.groups, stats };
  return { pinned: { groups: graph.groups, directory: graph.directory }, stats };
}
