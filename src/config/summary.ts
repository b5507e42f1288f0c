import type { Config } from "./load.js";

const MASK = "[set]";

/** The effective configuration for the startup log line: secrets replaced by "[set]", URLs without credentials. */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    mode: config.devMode ? "development" : "production-ready",
    webhook: `${config.webhook.host}:${config.webhook.port}`,
    admin_http: `${config.admin.host}:${config.admin.port}`,
    grpc: `${config.grpc.host}:${config.grpc.port}`,
    metrics: `${config.metrics.host}:${config.metrics.port}`,
    grpc_mtls: config.grpc.tls !== undefined,
    api_tokens: config.api.tokens.length,
    api_tokens_file: config.api.tokensFile,
    api_insecure: config.api.insecure,
    store: config.store.kind,
    store_schema: config.store.schema,
    store_migrate: config.store.migrate,
    store_data_dir: config.store.kind === "embedded" ? config.store.dataDir : undefined,
    database_url: config.store.databaseUrl ? withoutCredentials(config.store.databaseUrl) : undefined,
    graphql_url: config.store.graphql ? withoutCredentials(config.store.graphql.url) : undefined,
    graphql_admin_secret: config.store.graphql ? MASK : undefined,
    jwks_url: config.identity.jwksUrl,
    jwt_algorithms: config.identity.algorithms,
    jwt_audience: config.identity.audience,
    jwt_issuer: config.identity.issuer,
    user_claim: config.identity.userClaims,
    user_claim_format: config.identity.userClaimFormat,
    jwt_max_token_lifetime_s: config.identity.maxTokenLifetimeS,
    token_headers: config.identity.tokenHeaders,
    groups_provider: config.groups.provider,
    groups_claim: config.groups.provider === "claims" ? config.groups.claim : undefined,
    azure_tenant_id: config.identity.azureTenantId,
    azure_client_id: config.groups.azure?.clientId,
    azure_client_secret: config.groups.azure ? MASK : undefined,
    snapshot_refresh_s: config.snapshot.refreshMs / 1000,
    snapshot_verify_s: config.snapshot.verifyMs / 1000,
    snapshot_sync: config.snapshot.sync,
    snapshot_listen: config.snapshot.listen,
    snapshot_max_lag_s: config.snapshot.maxLagMs / 1000,
    snapshot_max_staleness_s: config.snapshot.maxStalenessMs / 1000,
    allow_introspection: config.webhook.allowIntrospection,
    reserved_role_ids: config.reservedRoleIds,
    websocket_session_max_s: config.webhook.websocketSessionMaxS,
    audit_allowed_sample: config.audit.allowedSample,
    shadow_webhook_url: config.shadow ? withoutCredentials(config.shadow.url) : undefined,
    shadow_answer: config.shadow?.answer,
    tracing: config.otlpEndpoint !== undefined,
  };
}

function withoutCredentials(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.username || url.password) {
      url.username = url.username ? MASK : "";
      url.password = url.password ? MASK : "";
    }
    return url.toString();
  } catch {
    return MASK;
  }
}
