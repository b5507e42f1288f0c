import { isEntraKeySetUrl, requireTenantGuid } from "../identity/azure-tenant.js";
import {
  DEFAULT_CLAIM_OPTIONS,
  parseAlgorithms,
  parseJwtOptions,
  type ParsedJwtOptions,
} from "../identity/jwt-options.js";
import { USER_CLAIM_FORMATS, type UserClaimFormat } from "../identity/user-claim-format.js";
import { DEFAULTS } from "./defaults.js";
import { checked, type EnvReader } from "./env-reader.js";
import type { AzureGroupsConfig } from "./groups.js";

/** How tokens are verified and who they name. */
export interface IdentityConfig {
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
}

/**
 * Reads JWT_*, USER_CLAIM*, AUTHORIZATION_HEADER_FIELD_NAMES, TOKEN_CACHE_MAX and AZURE_TENANT_ID (already read
 * with the Azure group provider), and refuses keys of an Entra authority that bind no tenant or no audience.
 */
export function readIdentity(
  env: EnvReader,
  jwksUrl: string | undefined,
  azure: AzureGroupsConfig | undefined,
): IdentityConfig {
  const d = DEFAULTS.identity;
  const identity: IdentityConfig = {
    jwksUrl,
    algorithms: checked(env, [...d.algorithms], () =>
      parseAlgorithms(env.jsonList("JWT_ALGORITHMS", d.algorithms), "JWT_ALGORITHMS"),
    ),
    audience: env.stringOrList("JWT_AUDIENCE"),
    issuer: env.stringOrList("JWT_ISSUER"),
    jwtOptions: checked(env, { options: DEFAULT_CLAIM_OPTIONS, warnings: [] }, () =>
      parseJwtOptions(env.jsonObject("JWT_OPTIONS")),
    ),
    maxTokenBytes: env.int("JWT_MAX_TOKEN_BYTES", d.maxTokenBytes, 256, 1024 * 1024),
    userClaims: env.stringOrList("USER_CLAIM") ?? [...d.userClaims],
    userClaimFormat: env.oneOf("USER_CLAIM_FORMAT", USER_CLAIM_FORMATS, d.userClaimFormat),
    maxTokenLifetimeS: env.int("JWT_MAX_TOKEN_LIFETIME_S", d.maxTokenLifetimeS, 60, 31_536_000),
    // With the Azure group provider readAzure has already checked it; otherwise it still binds tokens.
    azureTenantId: azure ? azure.tenantId : optionalTenant(env),
    tokenHeaders: env.jsonList("AUTHORIZATION_HEADER_FIELD_NAMES", d.tokenHeaders),
    tokenCacheMax: env.int("TOKEN_CACHE_MAX", d.tokenCacheMax, 0, 10_000_000),
  };
  if (jwksUrl && isEntraKeySetUrl(jwksUrl, azure?.authorityHost ?? env.url("AZURE_AUTHORITY_HOST"))) {
    requireTenantBinding(env, identity);
  }
  return identity;
}

function optionalTenant(env: EnvReader): string | undefined {
  const tenant = env.raw("AZURE_TENANT_ID");
  return tenant === undefined ? undefined : checked(env, undefined, () => requireTenantGuid(tenant));
}

const ENTRA_WHY =
  "JWKS_URL is on a Microsoft Entra authority host, whose keys sign the tokens of every tenant: a valid " +
  "signature alone would admit any Entra user or application in the world";

// Entra keys: a token must be bound to this tenant (issuer or tid) and to this API (audience), or start is refused.
function requireTenantBinding(env: EnvReader, identity: IdentityConfig): void {
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
