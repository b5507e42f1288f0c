import { requireTenantGuid } from "../identity/azure-tenant.js";
import { parseClaimPath } from "../identity/claims-path.js";
import { DEFAULTS } from "./defaults.js";
import { checked, type EnvReader } from "./env-reader.js";

/** Microsoft Graph as the group provider: the application's credentials and how groups are named. */
export interface AzureGroupsConfig {
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly authorityHost: string;
  readonly graphBaseUrl: string;
  readonly groupNameAttribute: "displayName" | "id";
  readonly trustTokenGroups: boolean;
}

/** Where a caller's groups come from: the token's claims, or Microsoft Graph. */
export interface GroupsConfig {
  readonly provider: "claims" | "azure";
  readonly claim: string;
  readonly cacheTtlS: number;
  readonly cacheMax: number;
  readonly azure: AzureGroupsConfig | undefined;
}

/** Reads GROUPS_* and, with GROUPS_PROVIDER=azure (the default when AZURE_CLIENT_ID is set), AZURE_*. */
export function readGroups(env: EnvReader): GroupsConfig {
  const d = DEFAULTS.groups;
  const provider = env.oneOf(
    "GROUPS_PROVIDER",
    ["claims", "azure"],
    env.raw("AZURE_CLIENT_ID") ? "azure" : "claims",
  );
  const azure = provider === "azure" ? readAzure(env) : undefined;
  return {
    provider,
    claim: checked(env, d.claim, () => parseClaimPath(env.string("GROUPS_CLAIM", d.claim))),
    cacheTtlS: env.number("GROUPS_CACHE_TTL_S", d.cacheTtlS, 0, 86_400),
    cacheMax: env.int("GROUPS_CACHE_MAX", d.cacheMax, 1, 10_000_000),
    azure,
  };
}

function readAzure(env: EnvReader): AzureGroupsConfig {
  const d = DEFAULTS.groups.azure;
  const required = (name: string): string =>
    env.raw(name) ?? env.fail(name, "required with GROUPS_PROVIDER=azure", undefined, "");
  return {
    tenantId: checked(env, "", () => requireTenantGuid(required("AZURE_TENANT_ID"))),
    clientId: required("AZURE_CLIENT_ID"),
    clientSecret: required("AZURE_CLIENT_SECRET"),
    scopes: env.jsonList("AZURE_SCOPES", d.scopes),
    authorityHost: env.url("AZURE_AUTHORITY_HOST") ?? d.authorityHost,
    graphBaseUrl: env.url("GRAPH_BASE_URL") ?? d.graphBaseUrl,
    groupNameAttribute: env.oneOf("AZURE_GROUP_NAME_ATTRIBUTE", ["displayName", "id"], d.groupNameAttribute),
    trustTokenGroups: env.bool("AZURE_TRUST_TOKEN_GROUPS", d.trustTokenGroups),
  };
}
