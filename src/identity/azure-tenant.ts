import { InvalidArgumentError } from "../core/errors.js";
import { rejectToken } from "./token-reasons.js";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a GUID such as an Entra tenant or object id. */
export function isGuid(value: unknown): value is string {
  return typeof value === "string" && GUID.test(value);
}

/** The issuers Entra ID uses for one tenant: v1 (sts.windows.net) and v2 (login.microsoftonline.com). */
export function azureIssuers(tenantId: string): string[] {
  const tid = tenantId.toLowerCase();
  return [`https://sts.windows.net/${tid}/`, `https://login.microsoftonline.com/${tid}/v2.0`];
}

/**
 * Refuses a token of another tenant. Microsoft's multi-tenant key set signs tokens for every tenant, so a
 * valid signature alone admits any Entra user in the world.
 */
export function checkAzureTenant(claims: Readonly<Record<string, unknown>>, tenantId: string): void {
  const tid = tenantId.toLowerCase();
  if (typeof claims.tid !== "string" || claims.tid.toLowerCase() !== tid) {
    throw rejectToken("token_bad_tenant", "token was issued for another tenant");
  }
  if (typeof claims.iss !== "string" || !azureIssuers(tid).includes(claims.iss.toLowerCase())) {
    throw rejectToken("token_bad_issuer", "token issuer is not the configured tenant");
  }
}

/** Validates a tenant id for the token check: a GUID, since the `tid` claim is always one. */
export function requireTenantGuid(value: string, field = "AZURE_TENANT_ID"): string {
  if (!isGuid(value)) throw new InvalidArgumentError(field, "expected the tenant GUID (the token's tid)");
  return value.toLowerCase();
}

/**
 * Hosts of Microsoft Entra's authorities, from Entra's instance discovery metadata (aliases of each cloud): the
 * global cloud, US Government, China (21Vianet), the closed German cloud and login-us. Keys served from any of
 * them sign the tokens of every tenant of that cloud.
 */
export const ENTRA_AUTHORITY_HOSTS: readonly string[] = [
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
  "sts.windows.net",
  "login.microsoftonline.us",
  "login.usgovcloudapi.net",
  "login-us.microsoftonline.com",
  "login.partner.microsoftonline.cn",
  "login.chinacloudapi.cn",
  "login.microsoftonline.de",
];

/**
 * True when `jwksUrl` is served by an Entra authority: one of ENTRA_AUTHORITY_HOSTS or the host of
 * `authorityHost` (AZURE_AUTHORITY_HOST). A tenant's own key URL there does not isolate it: config must then
 * check the issuer or the tenant, and the audience, or refuse to start.
 */
export function isEntraKeySetUrl(jwksUrl: string, authorityHost?: string): boolean {
  const host = hostOf(jwksUrl);
  if (host === undefined) return false;
  return (
    ENTRA_AUTHORITY_HOSTS.includes(host) || (authorityHost !== undefined && hostOf(authorityHost) === host)
  );
}

// The lower-case host name without port or trailing dot, or undefined for what is not a URL.
function hostOf(raw: string): string | undefined {
  try {
    return new URL(raw).hostname.toLowerCase().replace(/\.$/, "");
  } catch {
    return undefined;
  }
}
