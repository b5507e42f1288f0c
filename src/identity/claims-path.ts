import { InvalidArgumentError } from "../core/errors.js";

/**
 * Reads a claim by name or path: a top-level claim of exactly that name wins (Auth0's namespaced
 * `https://example.com/groups` contains dots), otherwise the name is split on dots and walked through nested
 * objects (Keycloak's `realm_access.roles`). Returns undefined when any step is missing or not an object.
 */
export function readClaimPath(claims: Readonly<Record<string, unknown>>, path: string): unknown {
  if (Object.hasOwn(claims, path)) return claims[path];
  let current: unknown = claims;
  for (const step of path.split(".")) {
    if (typeof current !== "object" || current === null || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** Validates a claim path from configuration (GROUPS_CLAIM): non-empty, no empty dotted segment. */
export function parseClaimPath(raw: string, field = "GROUPS_CLAIM"): string {
  const path = raw.trim();
  if (path.length === 0) throw new InvalidArgumentError(field, "must not be empty");
  if (path.length > 256) throw new InvalidArgumentError(field, "must be at most 256 characters");
  // A URL-style namespaced claim is read whole, so only plain dotted paths need non-empty segments.
  if (!path.includes("://") && path.split(".").some((segment) => segment.length === 0)) {
    throw new InvalidArgumentError(field, `"${path}" has an empty path segment`);
  }
  return path;
}
