import { DEFAULTS } from "../config/defaults.js";
import { InvalidArgumentError } from "../core/errors.js";
import type {
  DirectoryGroup,
  DirectoryGroupProvider,
  GroupDirectory,
  GroupProvider,
} from "../core/identity.js";
import type { CoreLogger } from "../core/logger-port.js";
import { isGuid } from "./azure-tenant.js";
import { createClientCredentialsTokenSource } from "./azure-token.js";
import type { AccessTokenSource, AzureTokenSourceOptions } from "./azure-token.js";
import { groupsFromClaim } from "./claims-groups.js";
import { createGraphGroupDirectory, type GraphGroupDirectoryOptions } from "./graph-group-directory.js";
import { listTransitiveGroups } from "./graph-listing.js";
import type { GraphListingOptions, GroupNameAttribute } from "./graph-listing.js";
import { DEFAULT_RETRY } from "./http-retry.js";
import type { HttpAttempt, RetryPolicy } from "./http-retry.js";
import { SingleFlightCache, type CacheStats } from "./single-flight-cache.js";
import { rejectToken } from "./token-reasons.js";

export type { GroupNameAttribute } from "./graph-listing.js";

/** Microsoft Graph group lookups, given a token source. */
export interface GraphGroupsOptions {
  readonly tokens: AccessTokenSource;
  /** GRAPH_BASE_URL; default https://graph.microsoft.com/v1.0. */
  readonly graphBaseUrl?: string;
  /** Default `displayName`. */
  readonly nameAttribute?: GroupNameAttribute;
  /** Use a token's own `groups` claim when it has no overage marker (AZURE_TRUST_TOKEN_GROUPS; default false). */
  readonly trustTokenGroups?: boolean;
  /** How long a user's groups are reused (GROUPS_CACHE_TTL_S × 1000; default 300 s). */
  readonly cacheTtlMs?: number;
  /** Most users cached (GROUPS_CACHE_MAX; default 10 000). */
  readonly cacheMaxEntries?: number;
  /** How long a failed lookup is remembered, so an outage does not multiply calls (default 5 s). */
  readonly errorTtlMs?: number;
  /** Time budget of one user's listing, all pages and retries included (default 10 s). */
  readonly budgetMs?: number;
  /** Most pages followed (default 20, i.e. about 20 000 memberships). */
  readonly maxPages?: number;
  /** Most groups accepted from a token's own claim (default 1000). */
  readonly maxTokenGroups?: number;
  readonly retry?: Partial<RetryPolicy>;
  readonly logger?: CoreLogger;
}

/**
 * The caller's Graph groups, cached per user: as id and display name pairs (`directoryGroupsOf`, for pinned
 * names), or as names of the configured attribute (`groupsOf`). Display names are not unique: the sidecar uses
 * `groupsOf` only with AZURE_GROUP_NAME_ATTRIBUTE=id, and pins display names (src/core/group-pinning.ts).
 */
export interface CachingGroupProvider extends GroupProvider, DirectoryGroupProvider {
  stats(): CacheStats;
}

/** Which outbound service an HTTP attempt went to. */
export type IdentityTarget = "azure_token" | "graph";

/** Everything the Azure provider needs: the app's credentials and the Graph options (GROUPS_PROVIDER=azure). */
export type AzureGroupsOptions = Omit<GraphGroupsOptions, "tokens"> &
  Omit<AzureTokenSourceOptions, "retry"> & {
    readonly retry?: Partial<RetryPolicy>;
    /** Told of every HTTP attempt to the token endpoint and to Graph (for metrics). */
    readonly onHttpAttempt?: (target: IdentityTarget, attempt: HttpAttempt) => void;
  };

/** The Azure group provider and the name lookups, sharing one client-credentials token source. */
export interface AzureGraph {
  readonly groups: CachingGroupProvider;
  readonly directory: GroupDirectory;
}

/** The Azure group provider and name directory: client-credentials tokens plus Graph calls, from one options object. */
export function createAzureGraph(options: AzureGroupsOptions): AzureGraph {
  const report = options.onHttpAttempt;
  const retryTo = (target: IdentityTarget): Partial<RetryPolicy> | undefined =>
    report ? { ...options.retry, onAttempt: (attempt) => report(target, attempt) } : options.retry;
  const tokenRetry = retryTo("azure_token");
  const graphRetry = retryTo("graph");
  const tokens = createClientCredentialsTokenSource({
    ...options,
    ...(tokenRetry ? { retry: tokenRetry } : {}),
  });
  const graphOptions = { ...options, tokens, ...(graphRetry ? { retry: graphRetry } : {}) };
  return {
    groups: createGraphGroupProvider(graphOptions),
    directory: createGraphGroupDirectory(graphCalls(graphOptions)),
  };
}

// How every Graph call is made, defaults filled in: the same for membership listings and name lookups.
function graphCalls(options: GraphGroupsOptions): GraphGroupDirectoryOptions {
  return {
    tokens: options.tokens,
    graphBaseUrl: new URL(options.graphBaseUrl ?? DEFAULTS.groups.azure.graphBaseUrl),
    maxPages: options.maxPages ?? 20,
    retry: { ...DEFAULT_RETRY, ...options.retry },
    budgetMs: options.budgetMs ?? 10_000,
  };
}

/**
 * Groups of the token's `oid` from Microsoft Graph (transitive memberships), cached per user with one lookup
 * in flight per user; or, when trusted and complete, the object ids of the token's own `groups` claim. A failure
 * rejects (UnavailableError / DeadlineExceededError); it is never an empty list.
 */
export function createGraphGroupProvider(options: GraphGroupsOptions): CachingGroupProvider {
  const nameAttribute = options.nameAttribute ?? DEFAULTS.groups.azure.groupNameAttribute;
  if (nameAttribute !== "displayName" && nameAttribute !== "id") {
    throw new InvalidArgumentError("nameAttribute", 'expected "displayName" or "id"');
  }
  const { budgetMs, ...calls } = graphCalls(options);
  const retry = calls.retry;
  const ttlMs = options.cacheTtlMs ?? DEFAULTS.groups.cacheTtlS * 1000;
  const listing: GraphListingOptions = {
    ...calls,
    nameAttribute,
    ...(options.logger ? { logger: options.logger } : {}),
  };
  const cache = new SingleFlightCache<readonly DirectoryGroup[]>({
    maxEntries: options.cacheMaxEntries ?? DEFAULTS.groups.cacheMax,
    errorTtlMs: options.errorTtlMs ?? 5_000,
    now: retry.now,
  });
  const tokenGroups = trustedTokenGroups(options);
  const namesOf = groupNames(nameAttribute);

  function listedGroups(claims: Readonly<Record<string, unknown>>): Promise<readonly DirectoryGroup[]> {
    const oid = claims.oid;
    if (!isGuid(oid)) throw rejectToken("oid_missing", "token has no valid oid claim to look up groups");
    const key = oid.toLowerCase();
    return cache.get(key, async () => {
      const groups = await listTransitiveGroups(key, retry.now() + budgetMs, listing);
      return { value: Object.freeze(groups), expiresAt: retry.now() + ttlMs };
    });
  }

  return {
    async directoryGroupsOf(claims) {
      return tokenGroups(claims) ?? listedGroups(claims);
    },
    async groupsOf(claims) {
      const own = tokenGroups(claims);
      return own ? namesOf(own, true) : namesOf(await listedGroups(claims), false);
    },
    stats: () => cache.stats(),
  };
}

// The memos below keep a warm caller's answer the same object, which the authorizer's principal cache relies on.

// The token's own groups (object ids), when trusted (AZURE_TRUST_TOKEN_GROUPS) and complete; else undefined.
function trustedTokenGroups(
  options: GraphGroupsOptions,
): (claims: Readonly<Record<string, unknown>>) => readonly DirectoryGroup[] | undefined {
  const maxTokenGroups = options.maxTokenGroups ?? 1000;
  const fromToken = new WeakMap<object, readonly DirectoryGroup[]>();
  return (claims) => {
    if (!options.trustTokenGroups || !Array.isArray(claims.groups) || hasGroupsOverage(claims))
      return undefined;
    let groups = fromToken.get(claims);
    if (!groups) {
      groups = Object.freeze(groupsFromClaim(claims.groups, "groups", maxTokenGroups).map((id) => ({ id })));
      fromToken.set(claims, groups);
    }
    return groups;
  };
}

// Names of the configured attribute; a token's groups are ids whatever the attribute, as they always were.
function groupNames(
  nameAttribute: GroupNameAttribute,
): (groups: readonly DirectoryGroup[], fromClaim: boolean) => readonly string[] {
  const names = new WeakMap<readonly DirectoryGroup[], readonly string[]>();
  return (groups, fromClaim) => {
    let named = names.get(groups);
    if (!named) {
      const byId = fromClaim || nameAttribute === "id";
      named = Object.freeze([
        ...new Set(groups.flatMap((g) => (byId ? [g.id] : g.name === undefined ? [] : [g.name]))),
      ]);
      names.set(groups, named);
    }
    return named;
  };
}

/**
 * True when Entra left the groups out of the token because there were too many: `_claim_names.groups`
 * (JWT overage) or `hasgroups` (implicit flow).
 */
export function hasGroupsOverage(claims: Readonly<Record<string, unknown>>): boolean {
  const names = claims._claim_names;
  const overage = typeof names === "object" && names !== null && Object.hasOwn(names, "groups");
  return overage || claims.hasgroups === true || claims.hasgroups === "true";
}
