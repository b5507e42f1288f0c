import { HasuraError } from "./hasura-errors.js";

/** An inherited role as the metadata holds it. */
export interface InheritedRole {
  readonly role_name: string;
  readonly role_set: readonly string[];
}

/** What the role's own permissions are: the output-port root fields it may select (empty: no permission). */
export type PermittedFields = (role: string) => Promise<ReadonlySet<string>>;

/**
 * Hasura's inherited roles (Hasura.RQL.DDL.InheritedRoles): kept in metadata by name; each schema cache build
 * resolves them against the roles holding at least one permission. One whose parent holds none is an
 * inconsistent object: left in the metadata, out of the schema cache, so its sessions get no root field. Adding
 * or dropping one rebuilds the cache and fails (the change undone) when the object itself is inconsistent.
 */
export class InheritedRoles {
  private readonly roles = new Map<string, InheritedRole>();

  constructor(private readonly permitted: PermittedFields) {}

  /** `export_metadata`'s `inherited_roles`, left out when empty as Hasura does. */
  exported(): { inherited_roles?: InheritedRole[] } {
    return this.roles.size === 0 ? {} : { inherited_roles: [...this.roles.values()] };
  }

  /** `add_inherited_role`: inserts or replaces, then checks the role resolves. */
  async add(args: unknown): Promise<void> {
    const role = readRole(args);
    if (role.role_set.includes(role.role_name)) {
      throw metadataError("invalid-params", "an inherited role name cannot be in the role combination");
    }
    const missing = await this.missingParents(role);
    if (missing.length > 0) {
      throw metadataError(
        "invalid-configuration",
        `Inconsistent object: in inherited role ${role.role_name}: the following parent role(s) are not found: ` +
          `${missing.join(", ")} which are required to construct the inherited role: "${role.role_name}"`,
      );
    }
    this.roles.set(role.role_name, role);
  }

  /** `drop_inherited_role`. */
  drop(args: unknown): void {
    const name = (args as { role_name?: unknown } | null)?.role_name;
    if (typeof name !== "string" || !this.roles.delete(name)) {
      throw metadataError("not-exists", `"${String(name)}" inherited role doesn't exist`);
    }
  }

  /**
   * The root fields a session role may select: an inherited role's parents' united when it resolves, none when
   * it is inconsistent; undefined when the role is not an inherited one.
   */
  async fieldsOf(roleName: string): Promise<ReadonlySet<string> | undefined> {
    const role = this.roles.get(roleName);
    if (role === undefined) return undefined;
    const fields = new Set<string>();
    for (const parent of role.role_set) {
      const own = await this.permitted(parent);
      if (own.size === 0) return new Set();
      for (const field of own) fields.add(field);
    }
    return fields;
  }

  private async missingParents(role: InheritedRole): Promise<string[]> {
    const missing: string[] = [];
    for (const parent of role.role_set) if ((await this.permitted(parent)).size === 0) missing.push(parent);
    return missing;
  }
}

function readRole(args: unknown): InheritedRole {
  const { role_name: name, role_set: set } = (args ?? {}) as Record<string, unknown>;
  if (typeof name !== "string" || name === "")
    throw metadataError("parse-failed", 'key "role_name" not found');
  if (!Array.isArray(set) || !set.every((parent) => typeof parent === "string" && parent !== "")) {
    throw metadataError("parse-failed", 'key "role_set" not found');
  }
  return { role_name: name, role_set: [...new Set(set as string[])] };
}

/** The metadata API answers errors as `{path, error, code}` with status 400. */
export function metadataError(code: string, message: string): HasuraError {
  return new HasuraError(code, message, "$.args", 400);
}
