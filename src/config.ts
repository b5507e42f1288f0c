import { readCombinedRoles, type CombinedRolesConfig } from "./config-combined.js";
import { EnvReader } from "./config-env.js";
import { DEFAULT_WEBSOCKET_SESSION_MAX_S } from "./core/authorizer.js";
import { InvalidArgumentError } from "./core/errors.js";
import { DEFAULT_GRPC_LIMITS } from "./grpc/server-limits.js";
import { parseReservedRoleIds, reservedRoleIds } from "./core/reserved-roles.js";
import { isEntraKeySetUrl, requireTenantGuid } from "./identity/azure-tenant.js";
import { parseClaimPath } from "./identity/claims-path.js";
import {
  DEFAULT_CLAIM_OPTIONS,
  parseAlgorithms,
  parseJwtOptions,
  type ParsedJwtOptions,
} from "./identity/jwt-options.js";
import { USER_CLAIM_FORMATS, type UserClaimFormat } from "./identity/user-claim-format.js";

/** Where the role mappings live. */
export type StoreKind = "embedded" | "postgres" | "hasura";

/** The whole validated configuration; frozen. */
export interface Config {
  readonly production: boolean;
  /** Local development issuer instead of a JWKS: never in production. */
  readonly devMode: boolean;
  readonly logLevel: string;
  readonly webhook: {
    readonly host: string;
    readonly port: number;
    readonly bodyLimitBytes: number;
    readonly maxQueryLength: number;
    readonly maxTokens: number;
    readonly maxBatch: number;
    readonly allowIntrospection: boolean;
    readonly operationCacheChars: number;
    /** Longest a websocket session (and its role) lasts before Hasura must ask again, in seconds. */
    readonly websocketSessionMaxS: number;
  };
  readonly admin: { readonly host: string; readonly port: number; readonly bodyLimitBytes: number };
  /** The listener of `/metrics` and the probes, apart from the API so that scrapers need no API access. */
  readonly metrics: { readonly host: string; readonly port: number };
  readonly grpc: {
    readonly host: string;
    readonly port: number;
    readonly maxMessageBytes: number;
    /** Health Watch calls held at once (GRPC_MAX_WATCHERS). */
    readonly maxWatchers: number;
    readonly maxConnections: number;
    readonly maxConcurrentStreams: number;
    readonly keepaliveTimeMs: number;
    readonly keepaliveTimeoutMs: number;
    readonly maxConnectionIdleMs: number;
    readonly maxConnectionAgeMs: number;
    readonly maxConnectionAgeGraceMs: number;
    readonly tls: { readonly cert: string; readonly key: string; readonly clientCa: string } | undefined;
  };
  readonly api: {
    readonly tokens: readonly string[];
    readonly tokensFile: string | undefined;
    readonly insecure: boolean;
  };
  readonly store: {
    readonly kind: StoreKind;
    readonly dataDir: string;
    readonly schema: string;
    readonly migrate: boolean;
    readonly databaseUrl: string | undefined;
    readonly graphql:
      { readonly url: string; readonly role: string; readonly adminSecret: string } | undefined;
    readonly timeoutMs: number;
  };
  readonly snapshot: {
    /** Full reloads of what no journal follows: the mappings with `sync: "full"`, Hasura's metadata. */
    readonly refreshMs: number;
    /** The safety net's period, following the journal (SNAPSHOT_VERIFY_S). */
    readonly verifyMs: number;
    readonly maxLagMs: number;
    readonly maxStalenessMs: number;
    /** `journal`: reload only what changed; `full`: reload everything on every change (SNAPSHOT_SYNC). */
    readonly sync: "journal" | "full";
    /** Wake at once on PostgreSQL's change notifications (SNAPSHOT_LISTEN). */
    readonly listen: boolean;
  };
  readonly limits: { readonly maxSubjects: number; readonly maxRootFields: number };
  /** Role ids never written through the API nor answered by the webhook; always includes `admin`. */
  readonly reservedRoleIds: readonly string[];
  readonly identity: {
    readonly jwksUrl: string | undefined;
    readonly algorithms: readonly string[];
    readonly audience: readonly string[] | undefined;
    readonly issuer: readonly string[] | undefined;
    readonly jwtOptions: ParsedJwtOptions;
    readonly maxTokenBytes: number;
    readonly userClaims: readonly string[];
    /** What the user claim must look like, so that no two people share a subject. */
    readonly userClaimFormat: UserClaimFormat;
    /** Longest validity of a token (from `iat`, or from now), and of its cache entry. */
    readonly maxTokenLifetimeS: number;
    /** Entra tenant whose `tid` and `iss` every token must carry (AZURE_TENANT_ID), whatever the group provider. */
    readonly azureTenantId: string | undefined;
    readonly tokenHeaders: readonly string[];
    readonly tokenCacheMax: number;
  };
  readonly groups: {
    readonly provider: "claims" | "azure";
    readonly claim: string;
    readonly cacheTtlS: number;
    readonly cacheMax: number;
    readonly azure:
      | {
          readonly tenantId: string;
          readonly clientId: string;
          readonly clientSecret: string;
          readonly scopes: readonly string[];
          readonly authorityHost: string;
          readonly graphBaseUrl: string;
          readonly groupNameAttribute: "displayName" | "id";
          readonly trustTokenGroups: boolean;
        }
      | undefined;
  };
  readonly audit: { readonly allowedSample: number };
  /** The previous webhook asked beside this one (shadow mode), or undefined when off. */
  readonly shadow: ShadowConfig | undefined;
  /** COMBINED_ROLES=hasura: queries spanning output ports answered with inherited roles; undefined when off. */
  readonly combinedRoles: CombinedRolesConfig | undefined;
  readonly shutdown: { readonly drainMs: number; readonly graceMs: number };
  readonly otlpEndpoint: string | undefined;
}

/** Shadow mode: the previous service's webhook, asked the same question to compare (or to answer) with. */
export interface ShadowConfig {
  /** The previous service's `/v1/authenticate` (SHADOW_WEBHOOK_URL). */
  readonly url: string;
  /** Share of webhook requests also sent to it, 0 to 1 (SHADOW_SAMPLE). */
  readonly sample: number;
  /**
   * Calls to it in flight at once (SHADOW_MAX_IN_FLIGHT); past it a comparison is skipped and counted, or with
   * `shadow` the request is answered 500.
   */
  readonly maxInFlight: number;
  /** Longest wait for its answer (SHADOW_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Whose answer Hasura gets: this sidecar's (`self`) or the previous service's (`shadow`). */
  readonly answer: "self" | "shadow";
}

/** The environment could not be turned into a configuration; `problems` names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

const PORT = [0, 65_535] as const;
const MIB = 1024 * 1024;
const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Turns the environment into one validated, frozen Config, or throws ConfigError naming every bad variable. */
export function loadConfig(environment: Readonly<Record<string, string | undefined>>): Config {
  const env = new EnvReader(environment);
  const production = env.raw("NODE_ENV") === "production";
  const jwksUrl = env.url("JWKS_URL");
  const devMode = jwksUrl === undefined;
  if (devMode && production) {
    env.fail(
      "JWKS_URL",
      "required when NODE_ENV=production (development mode is refused in production)",
      undefined,
      0,
    );
  }

  const databaseUrl = env.raw("DATABASE_URL");
  const graphqlUrl = env.url("GRAPHQL_URL");
  const defaultStore: StoreKind = graphqlUrl ? "hasura" : databaseUrl ? "postgres" : "embedded";
  const storeKind = env.oneOf<StoreKind>(
    "ROLEMAPPING_STORE",
    ["embedded", "postgres", "hasura"],
    defaultStore,
  );
  const schema = env.string("ROLEMAPPING_TABLE_SCHEMA", "rolemapping");
  if (!SQL_IDENTIFIER.test(schema))
    env.fail("ROLEMAPPING_TABLE_SCHEMA", "expected a lower-case SQL identifier", schema, 0);
  if (storeKind === "postgres" && !databaseUrl)
    env.fail("DATABASE_URL", "required with ROLEMAPPING_STORE=postgres", undefined, 0);
  const adminSecret = env.raw("GRAPHQL_ADMIN_SECRET");
  if (storeKind === "hasura") {
    if (!graphqlUrl) env.fail("GRAPHQL_URL", "required with ROLEMAPPING_STORE=hasura", undefined, 0);
    if (!adminSecret)
      env.fail("GRAPHQL_ADMIN_SECRET", "required with ROLEMAPPING_STORE=hasura", undefined, 0);
  }

  const azureClientId = env.raw("AZURE_CLIENT_ID");
  const groupsProvider = env.oneOf(
    "GROUPS_PROVIDER",
    ["claims", "azure"],
    azureClientId ? "azure" : "claims",
  );
  const azure = groupsProvider === "azure" ? readAzure(env) : undefined;

  const tlsCert = env.raw("GRPC_TLS_CERT");
  const tlsKey = env.raw("GRPC_TLS_KEY");
  const tlsCa = env.raw("GRPC_TLS_CLIENT_CA");
  const tlsParts = [tlsCert, tlsKey, tlsCa].filter((part) => part !== undefined).length;
  if (tlsParts !== 0 && tlsParts !== 3) {
    env.fail("GRPC_TLS_CERT", "GRPC_TLS_CERT, GRPC_TLS_KEY and GRPC_TLS_CLIENT_CA go together", undefined, 0);
  }
  const apiTokens = (env.raw("ROLEMAPPER_API_TOKENS") ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  const tokensFile = env.raw("ROLEMAPPER_API_TOKENS_FILE");
  const insecure = env.bool("ROLEMAPPER_API_INSECURE", false);
  if (!devMode && apiTokens.length === 0 && !tokensFile && tlsParts !== 3 && !insecure) {
    env.fail(
      "ROLEMAPPER_API_TOKENS",
      "the RoleMapping API needs credentials: set ROLEMAPPER_API_TOKENS, ROLEMAPPER_API_TOKENS_FILE or the GRPC_TLS_* variables (or ROLEMAPPER_API_INSECURE=true to run it unauthenticated)",
      undefined,
      0,
    );
  }

  // In development mode the API may run without credentials, so it listens on localhost only by default.
  const apiHost = devMode ? "127.0.0.1" : "0.0.0.0";
  const maxLagS = env.number("SNAPSHOT_MAX_LAG_S", 2, 0.1, 3600);
  const config: Config = {
    production,
    devMode,
    logLevel: env.oneOf("LOG_LEVEL", ["fatal", "error", "warn", "info", "debug", "trace", "silent"], "info"),
    webhook: {
      host: env.string("WEBHOOK_HOST", "127.0.0.1"),
      port: env.int("WEBHOOK_PORT", 8092, ...PORT),
      bodyLimitBytes: env.int("WEBHOOK_BODY_LIMIT_BYTES", MIB, 1024, 64 * MIB),
      maxQueryLength: env.int("MAX_QUERY_LENGTH", 100 * 1024, 64, 16 * MIB),
      maxTokens: env.int("MAX_QUERY_TOKENS", 10_000, 16, 1_000_000),
      maxBatch: env.int("MAX_BATCH_OPERATIONS", 50, 1, 10_000),
      allowIntrospection: env.bool("ALLOW_INTROSPECTION", false),
      operationCacheChars: env.int("OPERATION_CACHE_CHARS", 16 * MIB, 0, 1024 * MIB),
      websocketSessionMaxS: env.int("WEBSOCKET_SESSION_MAX_S", DEFAULT_WEBSOCKET_SESSION_MAX_S, 1, 86_400),
    },
    admin: {
      host: env.string("ADMIN_HTTP_HOST", apiHost),
      port: env.int("ADMIN_HTTP_PORT", 8093, ...PORT),
      bodyLimitBytes: env.int("ADMIN_BODY_LIMIT_BYTES", 32 * MIB, 1024, 512 * MIB),
    },
    metrics: {
      host: env.string("METRICS_HOST", apiHost),
      port: env.int("METRICS_PORT", 8094, ...PORT),
    },
    grpc: {
      host: env.string("GRPC_HOST", apiHost),
      port: env.int("GRPC_PORT", 50051, ...PORT),
      maxMessageBytes: env.int("GRPC_MAX_MESSAGE_BYTES", 32 * MIB, 1024, 512 * MIB),
      ...readGrpcBounds(env),
      tls: tlsCert && tlsKey && tlsCa ? { cert: tlsCert, key: tlsKey, clientCa: tlsCa } : undefined,
    },
    api: { tokens: apiTokens, tokensFile, insecure },
    store: {
      kind: storeKind,
      dataDir: env.string("ROLEMAPPING_DATA_DIR", "./data"),
      schema,
      migrate: env.bool("ROLEMAPPING_MIGRATE", storeKind === "embedded"),
      databaseUrl,
      graphql:
        graphqlUrl && adminSecret
          ? { url: graphqlUrl, role: env.string("GRAPHQL_ROLE", "admin"), adminSecret }
          : undefined,
      timeoutMs: env.int("STORE_TIMEOUT_MS", 10_000, 100, 600_000),
    },
    snapshot: {
      refreshMs: env.number("SNAPSHOT_REFRESH_S", 30, 1, 86_400) * 1000,
      verifyMs: env.number("SNAPSHOT_VERIFY_S", 3600, 1, 86_400) * 1000,
      maxLagMs: maxLagS * 1000,
      maxStalenessMs: env.number("SNAPSHOT_MAX_STALENESS_S", 300, 1, 86_400) * 1000,
      sync: env.oneOf("SNAPSHOT_SYNC", ["journal", "full"], "journal"),
      listen: env.bool("SNAPSHOT_LISTEN", true),
    },
    limits: {
      maxSubjects: env.int("MAX_SUBJECTS_PER_CALL", 100_000, 1, 10_000_000),
      maxRootFields: env.int("MAX_ROOT_FIELDS_PER_ROLE", 1_000, 1, 100_000),
    },
    reservedRoleIds: checked(env, [...reservedRoleIds()], () =>
      parseReservedRoleIds(env.raw("RESERVED_ROLE_IDS")),
    ),
    identity: {
      jwksUrl,
      algorithms: checked(env, ["RS256"], () =>
        parseAlgorithms(env.jsonList("JWT_ALGORITHMS", ["RS256"]), "JWT_ALGORITHMS"),
      ),
      audience: env.stringOrList("JWT_AUDIENCE"),
      issuer: env.stringOrList("JWT_ISSUER"),
      jwtOptions: checked(env, { options: DEFAULT_CLAIM_OPTIONS, warnings: [] }, () =>
        parseJwtOptions(env.jsonObject("JWT_OPTIONS")),
      ),
      maxTokenBytes: env.int("JWT_MAX_TOKEN_BYTES", 16 * 1024, 256, MIB),
      userClaims: env.stringOrList("USER_CLAIM") ?? ["unique_name"],
      userClaimFormat: env.oneOf("USER_CLAIM_FORMAT", USER_CLAIM_FORMATS, "email"),
      maxTokenLifetimeS: env.int("JWT_MAX_TOKEN_LIFETIME_S", 86_400, 60, 31_536_000),
      // With the Azure group provider readAzure has already checked it; otherwise it still binds tokens.
      azureTenantId: azure ? azure.tenantId : optionalTenant(env),
      tokenHeaders: env.jsonList("AUTHORIZATION_HEADER_FIELD_NAMES", ["Authorization"]),
      tokenCacheMax: env.int("TOKEN_CACHE_MAX", 10_000, 0, 10_000_000),
    },
    groups: {
      provider: groupsProvider,
      claim: checked(env, "groups", () => parseClaimPath(env.string("GROUPS_CLAIM", "groups"))),
      cacheTtlS: env.number("GROUPS_CACHE_TTL_S", 300, 0, 86_400),
      cacheMax: env.int("GROUPS_CACHE_MAX", 10_000, 1, 10_000_000),
      azure,
    },
    audit: { allowedSample: env.number("AUDIT_ALLOWED_SAMPLE", 1, 0, 1) },
    shadow: readShadow(env),
    combinedRoles: readCombinedRoles(env, graphqlUrl),
    // Within Kubernetes' default 30 s termination grace: callers stop sending, then requests in flight finish.
    shutdown: {
      drainMs: env.number("SHUTDOWN_DRAIN_S", 2, 0, 300) * 1000,
      graceMs: env.number("SHUTDOWN_GRACE_S", 10, 0, 300) * 1000,
    },
    otlpEndpoint: env.url("OTEL_EXPORTER_OTLP_ENDPOINT"),
  };
  if (jwksUrl && isEntraKeySetUrl(jwksUrl, azure?.authorityHost ?? env.url("AZURE_AUTHORITY_HOST"))) {
    requireTenantBinding(env, config.identity);
  }
  checkMetricsPort(env, config);
  if (env.problems.length > 0) throw new ConfigError(env.problems);
  return deepFreeze(config);
}

// The metrics listener binds beside the others: a port shared with one of them would fail at start instead.
function checkMetricsPort(env: EnvReader, config: Config): void {
  const { port } = config.metrics;
  const taken = [config.webhook.port, config.admin.port, config.grpc.port];
  if (port !== 0 && taken.includes(port)) {
    env.fail("METRICS_PORT", "must differ from WEBHOOK_PORT, ADMIN_HTTP_PORT and GRPC_PORT", String(port), 0);
  }
}

// What an unauthenticated caller could otherwise hold open on the gRPC port: streams, connections, time.
function readGrpcBounds(env: EnvReader) {
  const d = DEFAULT_GRPC_LIMITS;
  const seconds = (name: string, fallbackMs: number, min: number, max: number): number =>
    Math.round(env.number(name, fallbackMs / 1000, min, max) * 1000);
  return {
    maxWatchers: env.int("GRPC_MAX_WATCHERS", d.maxHealthWatchers, 0, 100_000),
    maxConnections: env.int("GRPC_MAX_CONNECTIONS", d.maxConnections, 1, 1_000_000),
    maxConcurrentStreams: env.int("GRPC_MAX_CONCURRENT_STREAMS", d.maxConcurrentStreams, 1, 100_000),
    keepaliveTimeMs: seconds("GRPC_KEEPALIVE_TIME_S", d.keepaliveTimeMs, 1, 86_400),
    keepaliveTimeoutMs: seconds("GRPC_KEEPALIVE_TIMEOUT_S", d.keepaliveTimeoutMs, 1, 3_600),
    maxConnectionIdleMs: seconds("GRPC_MAX_CONNECTION_IDLE_S", d.maxConnectionIdleMs, 1, 86_400),
    maxConnectionAgeMs: seconds("GRPC_MAX_CONNECTION_AGE_S", d.maxConnectionAgeMs, 1, 604_800),
    maxConnectionAgeGraceMs: seconds("GRPC_MAX_CONNECTION_AGE_GRACE_S", d.maxConnectionAgeGraceMs, 0, 3_600),
  };
}

// Operator configuration like GRAPHQL_URL: the URL is trusted, only its form is checked.
function readShadow(env: EnvReader): ShadowConfig | undefined {
  const url = env.url("SHADOW_WEBHOOK_URL");
  const answer = env.oneOf("SHADOW_ANSWER", ["self", "shadow"], "self");
  const sample = env.number("SHADOW_SAMPLE", 1, 0, 1);
  // With `shadow` every request waits for the previous service: the bound only keeps a stalled one from holding
  // every request, so its default is larger than that of comparisons made beside this side's answers.
  const maxInFlight = env.int("SHADOW_MAX_IN_FLIGHT", answer === "shadow" ? 512 : 32, 1, 10_000);
  const timeoutMs = env.int("SHADOW_TIMEOUT_MS", 2_000, 10, 60_000);
  if (url === undefined) {
    if (answer === "shadow" && env.raw("SHADOW_WEBHOOK_URL") === undefined)
      env.fail("SHADOW_ANSWER", "shadow needs SHADOW_WEBHOOK_URL", answer, 0);
    return undefined;
  }
  return { url, sample, maxInFlight, timeoutMs, answer };
}

function readAzure(env: EnvReader): NonNullable<Config["groups"]["azure"]> {
  const required = (name: string): string =>
    env.raw(name) ?? env.fail(name, "required with GROUPS_PROVIDER=azure", undefined, "");
  return {
    tenantId: checked(env, "", () => requireTenantGuid(required("AZURE_TENANT_ID"))),
    clientId: required("AZURE_CLIENT_ID"),
    clientSecret: required("AZURE_CLIENT_SECRET"),
    scopes: env.jsonList("AZURE_SCOPES", ["https://graph.microsoft.com/.default"]),
    authorityHost: env.url("AZURE_AUTHORITY_HOST") ?? "https://login.microsoftonline.com",
    graphBaseUrl: env.url("GRAPH_BASE_URL") ?? "https://graph.microsoft.com/v1.0",
    groupNameAttribute: env.oneOf("AZURE_GROUP_NAME_ATTRIBUTE", ["displayName", "id"], "displayName"),
    trustTokenGroups: env.bool("AZURE_TRUST_TOKEN_GROUPS", false),
  };
}

function optionalTenant(env: EnvReader): string | undefined {
  const tenant = env.raw("AZURE_TENANT_ID");
  return tenant === undefined ? undefined : checked(env, undefined, () => requireTenantGuid(tenant));
}

const ENTRA_WHY =
  "JWKS_URL is on a Microsoft Entra authority host, whose keys sign the tokens of every tenant: a valid " +
  "signature alone would admit any Entra user or application in the world";

// Entra keys: a token must be bound to this tenant (issuer or tid) and to this API (audience), or start is refused.
function requireTenantBinding(env: EnvReader, identity: Config["identity"]): void {
  const { options } = identity.jwtOptions;
  const issuerChecked = identity.issuer !== undefined && options.verifyIss;
  if (!issuerChecked && identity.azureTenantId === undefined) {
    const unchecked = identity.issuer !== undefined ? " (JWT_OPTIONS turns verify_iss off)" : "";
    env.fail(
      "JWT_ISSUER",
      `or AZURE_TENANT_ID is required${unchecked}: ${ENTRA_WHY}; set your tenant's issuer, or its id`,
      undefined,
      0,
    );
  }
  if (identity.audience === undefined || !options.verifyAud) {
    const unchecked = identity.audience !== undefined ? " (JWT_OPTIONS turns verify_aud off)" : "";
    env.fail(
      "JWT_AUDIENCE",
      `is required${unchecked}: ${ENTRA_WHY}, to any application of yours; set this API's application id (URI)`,
      undefined,
      0,
    );
  }
}

// Runs a parser that reports with InvalidArgumentError ("FIELD: message"), recording its complaint instead.
function checked<T>(env: EnvReader, fallback: T, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    env.problems.push(error.message);
    return fallback;
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
