import { UnavailableError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";
import type { CombinedRoleUses } from "./combined-role-uses.js";
import { MetadataApiError, type MetadataCall } from "./metadata-client.js";

/** What a creation counts. */
export type CreationCount = "created" | "failed";

/** What creations are made with: the registry's options they use. */
export interface CreationOptions {
  readonly call: MetadataCall;
  /** Longest a creation may take (COMBINED_ROLE_CREATE_TIMEOUT_MS). */
  readonly createTimeoutMs: number;
  /** Most combined roles kept (COMBINED_ROLE_MAX). */
  readonly maxRoles: number;
  readonly logger: CoreLogger;
  /** Counts creations and failed ones. */
  readonly onEvent?: (counted: CreationCount) => void;
}

/** What a creation needs of the registry: the roles it knows, its drops under way, and where a creation ends. */
export interface CreationHost {
  /** The roles known to exist now (a refresh replaces them). */
  known(): ReadonlyMap<string, readonly string[]>;
  /** A drop of the role under way on this replica, if any. */
  dropping(name: string): Promise<void> | undefined;
  /** The ledger had no row for the role: it may be gone from the metadata, and is made again. */
  forget(name: string): void;
  /** Hasura confirmed the role. */
  confirmed(name: string, parents: readonly string[]): void;
}

interface Making {
  readonly parents: readonly string[];
  abandoned: string | undefined;
}

/**
 * The creation of missing combined roles: one `add_inherited_role` per name shared by concurrent callers, within
 * the creation timeout, "already exists" taken as success; a creation whose role is dropped or loses a parent
 * before Hasura answers does not add it, and its callers are denied.
 */
export class CombinedRoleCreations {
  private readonly creating = new Map<string, Promise<void>>();
  // Creations under way (claim and add_inherited_role): once `abandoned` says why, their role is not added.
  private readonly making = new Map<string, Making>();

  constructor(
    private readonly options: CreationOptions,
    private readonly uses: CombinedRoleUses | undefined,
    private readonly host: CreationHost,
  ) {}

  /** Creates the role unless it exists, one creation shared by concurrent callers. */
  ensure(name: string, parents: readonly string[]): Promise<void> {
    let pending = this.creating.get(name);
    if (pending === undefined) {
      pending = this.make(name, parents).finally(() => this.creating.delete(name));
      this.creating.set(name, pending);
    }
    return pending;
  }

  /** Hasura may confirm a creation having one of `deleted` as parent before the drop removed it: not added. */
  abandonWithParents(deleted: ReadonlySet<string>): void {
    for (const making of this.making.values()) {
      const parent = making.parents.find((p) => deleted.has(p));
      if (parent !== undefined) making.abandoned ??= `lost its parent "${parent}" (deleted)`;
    }
  }

  /** The role is being dropped: a creation of it under way does not add it. */
  abandonDropped(name: string): void {
    const making = this.making.get(name);
    if (making) making.abandoned ??= "was dropped";
  }

  // Made only once recorded as used (when idle roles are dropped), and only once a drop of it here is done.
  private async make(name: string, parents: readonly string[]): Promise<void> {
    const making: Making = { parents, abandoned: undefined };
    this.making.set(name, making);
    try {
      await this.host.dropping(name)?.catch(() => undefined);
      if (this.uses) {
        const entry = { name, parents };
        try {
          if (await this.uses.claim(entry, () => this.host.dropping(name))) this.host.forget(name);
        } catch (error) {
          this.unavailableToCaller(name, parents, error);
        }
      }
      if (!this.host.known().has(name)) await this.create(name, parents, making);
    } finally {
      this.making.delete(name);
    }
  }

  private async create(name: string, parents: readonly string[], making: Making): Promise<void> {
    // This creation is in `creating` already (ensure adds it): every role known or on its way counts.
    if (this.host.known().size + this.creating.size > this.options.maxRoles) this.full(name, parents);
    this.stillWanted(name, making);
    const args = { role_name: name, role_set: [...parents] };
    try {
      await this.options.call("add_inherited_role", args, this.options.createTimeoutMs);
    } catch (error) {
      // A replica racing this one created it first: it exists, which is all that is asked.
      if (!(error instanceof MetadataApiError && error.code === "already-exists")) {
        this.unavailableToCaller(name, parents, error);
      }
    }
    this.stillWanted(name, making);
    this.host.confirmed(name, parents);
    this.options.onEvent?.("created");
    this.options.logger.info(
      { event: "combined_role_created", role: name, parent_roles: parents },
      "combined role created in Hasura's metadata",
    );
  }

  // Fails closed: the request was decided on a snapshot holding the deleted parent, and the role may be gone.
  private stillWanted(name: string, making: Making): void {
    if (making.abandoned === undefined) return;
    const error = new UnavailableError(
      `combined role "${name}" ${making.abandoned} while it was being created`,
    );
    this.unavailableToCaller(name, making.parents, error);
  }

  private unavailableToCaller(name: string, parents: readonly string[], error: unknown): never {
    this.options.onEvent?.("failed");
    this.options.logger.warn(
      {
        event: "combined_role_unavailable",
        role: name,
        parent_roles: parents,
        err: error instanceof Error ? error.message : String(error),
      },
      "combined role could not be created: its requests are denied",
    );
    throw error;
  }

  // Every role is a rebuild of Hasura's schema and stays in its metadata: past the bound, requests are denied.
  private full(name: string, parents: readonly string[]): never {
    this.options.onEvent?.("failed");
    this.options.logger.warn(
      { event: "combined_role_unavailable", role: name, parent_roles: parents, max: this.options.maxRoles },
      "combined role not created: COMBINED_ROLE_MAX combined roles exist already; its requests are denied",
    );
    throw new UnavailableError(
      `combined roles: ${this.options.maxRoles} exist already (COMBINED_ROLE_MAX); "${name}" was not created`,
    );
  }
}
