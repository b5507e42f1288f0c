import { defaultApiHost, readApi, type ApiConfig } from "./api.js";
import { readCombinedRoles, type CombinedRolesConfig } from "./combined-roles.js";
import { ConfigError, EnvReader } from "./env-reader.js";
import { deepFreeze } from "./freeze.js";
import { readGroups, type GroupsConfig } from "./groups.js";
import { readIdentity, type IdentityConfig } from "./identity.js";
import { readRunMode, readShutdown, type ShutdownConfig } from "./lifecycle.js";
import { checkMetricsPort, readObservability, type ObservabilityConfig } from "./observability.js";
import { readShadow, type ShadowConfig } from "./shadow.js";
import { readSnapshot, type SnapshotConfig } from "./snapshot.js";
import { readStore, type StoreConfig } from "./store.js";
import { readWebhook, type WebhookConfig } from "./webhook.js";

/** The whole validated configuration, one section per reader of this folder; frozen. */
export interface Config extends ObservabilityConfig, ApiConfig {
  readonly production: boolean;
  /** Local development issuer instead of a JWKS: never in production. */
  readonly devMode: boolean;
  readonly webhook: WebhookConfig;
  readonly store: StoreConfig;
  readonly snapshot: SnapshotConfig;
  readonly identity: IdentityConfig;
  readonly groups: GroupsConfig;
  /** The previous webhook asked beside this one (shadow mode), or undefined when off. */
  readonly shadow: ShadowConfig | undefined;
  /** COMBINED_ROLES=hasura: queries spanning output ports answered with inherited roles; undefined when off. */
  readonly combinedRoles: CombinedRolesConfig | undefined;
  readonly shutdown: ShutdownConfig;
}

/**
 * Turns the environment into one validated, frozen Config, or throws ConfigError naming every bad variable
 * (section by section, in the order read here).
 */
export function loadConfig(environment: Readonly<Record<string, string | undefined>>): Config {
  const env = new EnvReader(environment);
  const { production, devMode, jwksUrl } = readRunMode(env);
  const observability = readObservability(env, defaultApiHost(devMode));
  const webhook = readWebhook(env);
  const api = readApi(env, devMode);
  const { store, graphqlUrl } = readStore(env);
  const snapshot = readSnapshot(env);
  const groups = readGroups(env);
  const config: Config = {
    production,
    devMode,
    ...observability,
    webhook,
    ...api,
    store,
    snapshot,
    identity: readIdentity(env, jwksUrl, groups.azure),
    groups,
    shadow: readShadow(env),
    combinedRoles: readCombinedRoles(env, graphqlUrl, snapshot.refreshMs),
    shutdown: readShutdown(env),
  };
  checkMetricsPort(env, config.metrics.port, {
    webhook: webhook.port,
    admin: api.admin.port,
    grpc: api.grpc.port,
  });
  if (env.problems.length > 0) throw new ConfigError(env.problems);
  return deepFreeze(config);
}
