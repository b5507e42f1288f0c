import { DEFAULT_WEBSOCKET_SESSION_MAX_S } from "../core/authorizer.js";
import { DEFAULT_MAPPING_LIMITS } from "../core/mapping-service.js";
import { DEFAULT_OPERATION_LIMITS } from "../core/operation.js";
import { deepFreeze } from "./freeze.js";

const MIB = 1024 * 1024;

/**
 * Every default of the configuration, in the units of the Config field it fills (ms where the variable is in
 * seconds). The readers in this folder and the adapters' own option defaults both take them from here, so a
 * default changes in one place. The core's bounds stay the core's: this table names them.
 */
export const DEFAULTS = deepFreeze({
  logLevel: "info",
  webhook: {
    // The webhook answers Hasura in the same pod: it never listens beyond loopback unless told to.
    host: "127.0.0.1",
    port: 8092,
    bodyLimitBytes: MIB,
    maxQueryLength: DEFAULT_OPERATION_LIMITS.maxQueryLength,
    maxTokens: DEFAULT_OPERATION_LIMITS.maxTokens,
    maxBatch: 50,
    allowIntrospection: false,
    operationCacheChars: 16 * MIB,
    websocketSessionMaxS: DEFAULT_WEBSOCKET_SESSION_MAX_S,
  },
  /** The API and metrics listeners' host: in development mode the API may run without credentials. */
  apiHost: { development: "127.0.0.1", otherwise: "0.0.0.0" },
  // The REST body bound: room for the longest user lists the provisioner sends.
  admin: { port: 8093, bodyLimitBytes: 32 * MIB },
  metrics: { port: 8094 },
  grpc: {
    port: 50051,
    maxMessageBytes: 32 * MIB,
    maxWatchers: 100,
    // API clients multiplex their calls over one connection; 100 of them at 100 streams bound what is held.
    maxConnections: 100,
    // The HTTP/2 specification's recommended minimum: enough for any real client, and a per-connection ceiling.
    maxConcurrentStreams: 100,
    keepaliveTimeMs: 60_000,
    keepaliveTimeoutMs: 20_000,
    // API clients and probes reconnect transparently; an idle connection only costs memory here.
    maxConnectionIdleMs: 300_000,
    maxConnectionAgeMs: 1_800_000,
    maxConnectionAgeGraceMs: 30_000,
  },
  store: {
    dataDir: "./data",
    schema: "rolemapping",
    graphqlRole: "admin",
    timeoutMs: 10_000,
  },
  snapshot: {
    refreshMs: 30_000,
    verifyMs: 3_600_000,
    maxLagMs: 2_000,
    maxStalenessMs: 300_000,
    sync: "journal",
    listen: true,
  },
  limits: {
    maxSubjects: DEFAULT_MAPPING_LIMITS.maxSubjects,
    maxRootFields: DEFAULT_MAPPING_LIMITS.maxRootFields,
  },
  identity: {
    algorithms: ["RS256"],
    maxTokenBytes: 16 * 1024,
    // Azure's `unique_name`, as the existing service used.
    userClaims: ["unique_name"],
    userClaimFormat: "email",
    maxTokenLifetimeS: 86_400,
    tokenHeaders: ["Authorization"],
    tokenCacheMax: 10_000,
  },
  groups: {
    claim: "groups",
    cacheTtlS: 300,
    cacheMax: 10_000,
    azure: {
      // An app-only Graph token; national clouds have their own authority and Graph hosts.
      scopes: ["https://graph.microsoft.com/.default"],
      authorityHost: "https://login.microsoftonline.com",
      graphBaseUrl: "https://graph.microsoft.com/v1.0",
      groupNameAttribute: "displayName",
      trustTokenGroups: false,
    },
  },
  audit: { allowedSample: 1 },
  shadow: {
    sample: 1,
    // With `shadow` every request waits for the previous service: the bound only keeps a stalled one from holding
    // every request, so its default is larger than that of comparisons made beside this side's answers.
    maxInFlight: { self: 32, shadow: 512 },
    // Hasura's bodies are a few KiB (headers and query): 512 of them fit; bodies near the 1 MiB limit, 16 at once.
    maxBytesInFlight: 16 * MIB,
    timeoutMs: 2_000,
    answer: "self",
  },
  combinedRoles: {
    maxParents: 8,
    maxRoles: 1_000,
    prefix: "rolemapper_combined_",
    createTimeoutMs: 5_000,
    idleS: 604_800,
  },
  // Within Kubernetes' default 30 s termination grace: callers stop sending, then requests in flight finish.
  shutdown: { drainMs: 2_000, graceMs: 10_000 },
} as const);
