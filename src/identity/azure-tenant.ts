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
 * True when `jwksUrl` is Microsoft's shared key set (`/common/` or `/organizations/`), whose keys sign tokens of
 * all tenants: config must then check the issuer or the tenant, or refuse to start.
 */
export function isMultiTenantJwksUrl(jwksUrl: string): boolean {
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    return false;
  }
  const first = url.pathname
    .split("/")
    .find((segment) => segment.length > 0)
    ?.toLowerCase();
  return first === "common" || first === "organizations";
}
