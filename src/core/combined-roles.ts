/**
 * Where combined roles live (Hasura inherited roles in its metadata). Declared by the core, implemented by an
 * adapter (src/hasura-metadata/).
 */
export interface CombinedRoles {
  /** True when the role is known to exist: the warm path, a map lookup. */
  exists(name: string): boolean;
  /**
   * Creates the role with these parents unless it exists, one creation shared by concurrent callers; resolves
   * once the engine confirms it, rejects on an error or past the creation timeout.
   */
  ensure(name: string, parents: readonly string[]): Promise<void>;
  /** Drops every combined role having `roleId` among its parents; resolves once the engine confirms. */
  dropWithParent(roleId: string): Promise<void>;
}

/** Why a combined decision was turned into a denial: the role could not be made to exist in time. */
export const COMBINED_ROLE_UNAVAILABLE = "combined_role_unavailable" as const;
