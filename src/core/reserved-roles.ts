import { InvalidArgumentError } from "./errors.js";
import { requireIdList } from "./validation.js";

/** Hasura's superuser role: a session with it bypasses every permission, so it is always reserved. */
export const HASURA_ADMIN_ROLE = "admin";

/**
 * The role ids the webhook never answers and the API never writes: `admin` plus the configured extra ids.
 * Compared exactly, as Hasura compares role names (they are case-sensitive: `Admin` is an ordinary role).
 */
export function reservedRoleIds(extra: readonly string[] = []): ReadonlySet<string> {
  return new Set([HASURA_ADMIN_ROLE, ...extra]);
}

/** Refuses a reserved role id in `field`, saying why; returns the id otherwise. */
export function refuseReserved(field: string, roleId: string, reserved: ReadonlySet<string>): string {
  if (!reserved.has(roleId)) return roleId;
  const why =
    roleId === HASURA_ADMIN_ROLE
      ? "it is Hasura's admin role, which bypasses every permission"
      : "it is listed in RESERVED_ROLE_IDS";
  throw new InvalidArgumentError(
    field,
    `"${roleId}" is a reserved role id: ${why}, so the webhook never answers it and it cannot be mapped`,
  );
}

/** The extra reserved ids from RESERVED_ROLE_IDS (a JSON list, `[]` allowed); `admin` is added whatever it says. */
export function parseReservedRoleIds(raw: string | undefined): string[] {
  if (raw === undefined) return [...reservedRoleIds()];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError(FIELD, 'expected a JSON list of role ids, e.g. ["anonymous"]');
  }
  return [...reservedRoleIds(requireIdList(FIELD, parsed, MAX_RESERVED))];
}

const FIELD = "RESERVED_ROLE_IDS";
const MAX_RESERVED = 1_000;
