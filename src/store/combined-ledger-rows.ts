import type { CombinedRoleEntry } from "../core/combined-roles.js";

/** A role's parents as both ledgers keep them in `parent_roles`: a JSON list. */
export function parentRolesText(parents: readonly string[]): string {
  return JSON.stringify(parents);
}

/** A ledger row read back: `parent_roles` other than a JSON list (edited by hand) reads as no parents, only logged. */
export function ledgerEntry(name: string, parentRoles: unknown): CombinedRoleEntry {
  return { name, parents: parentRolesOf(parentRoles) };
}

function parentRolesOf(text: unknown): string[] {
  try {
    const parsed: unknown = JSON.parse(String(text));
    return Array.isArray(parsed)
      ? parsed.filter((parent): parent is string => typeof parent === "string")
      : [];
  } catch {
    return [];
  }
}
