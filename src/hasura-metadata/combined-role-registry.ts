import type { CombinedRoleEntry, CombinedRoles } from "../core/combined-roles.js";
import { UnavailableError } from "../core/errors.js";
import type { CoreLogger } from "../core/logger-port.js";
import { CombinedRoleUses, IdleDropFailed, type IdleDropOptions } from "./combined-role-uses.js";
import { CombinedRoleCreations } from "./combined-role-creation.js";
import { MetadataApiError, type MetadataCall } from "./metadata-client.js";

/** What the registry is built from. */
export interface CombinedRoleRegistryOptions {
  readonly call: MetadataCall;
  /** Only inherited roles with this prefix are the sidecar's: it never reads, creates or drops others. */
  readonly prefix: string;
  /** Longest a creation may take (COMBINED_ROLE_CREATE_TIMEOUT_MS); also the bound of other metadata calls. */
  readonly createTimeoutMs: number;
  /** Most combined roles kept (COMBINED_ROLE_MAX): each one is made on demand by a caller's query. */
  readonly maxRoles: number;
  readonly logger: CoreLogger;
  /** Counts creations, drops, failed metadata calls and failed steps of the ledger. */
  readonly onEvent?: (event: CombinedRoleEvent) => void;
  /** COMBINED_ROLE_IDLE_S: roles unused that long on every replica are dropped; undefined keeps them all. */
  readonly idle?: IdleDropOptions;
}

/** What the registry counts. */
export type CombinedRoleEvent = "created" | "dropped" | "failed" | "ledger_failed";

/**
 * A background round in which a step of the ledger (or a sweep's drop) failed: each failure was logged and counted
 * as it happened; the round still fails, so that the next one comes sooner.
 */
export class CombinedRoleUpkeepFailed extends Error {
  constructor(readonly steps: readonly string[]) {
    super(`combined roles: ${steps.join(" and ")} failed`);
    this.name = "CombinedRoleUpkeepFailed";
  }
}

interface InheritedRole {
  readonly role_name: string;
  readonly role_set: readonly string[];
}

/**
 * The combined roles as Hasura inherited roles. What exists is learnt from `export_metadata` (at start and every
 * refresh) and from this replica's own creations; `exists` is a map lookup, `ensure` one creation per name
 * shared by concurrent callers.
 */
export class CombinedRoleRegistry implements CombinedRoles {
  private known = new Map<string, readonly string[]>();
  private readonly dropping = new Map<string, Promise<void>>();
  // Roles this replica confirmed while an export was on its way: the export may predate them.
  private confirmedDuringRefresh: Map<string, readonly string[]> | undefined;
  // Parents deleted while an export was on its way: the export may predate their roles' drop.
  private deletedDuringRefresh: Set<string> | undefined;
  private readonly uses: CombinedRoleUses | undefined;
  private readonly creations: CombinedRoleCreations;

  constructor(private readonly options: CombinedRoleRegistryOptions) {
    const { idle, createTimeoutMs, logger } = options;
    this.uses = idle && new CombinedRoleUses(idle, createTimeoutMs, logger);
    this.creations = new CombinedRoleCreations(options, this.uses, {
      known: () => this.known,
      dropping: (name) => this.dropping.get(name),
      forget: (name) => this.known.delete(name),
      confirmed: (name, parents) => {
        this.known.set(name, parents);
        this.confirmedDuringRefresh?.set(name, parents);
      },
    });
  }

  /** The combined roles known to exist, with their parents (tests, logs). */
  roles(): ReadonlyMap<string, readonly string[]> {
    return this.known;
  }

  exists(name: string): boolean {
    return this.known.has(name) && (this.uses === undefined || this.uses.trusts(name));
  }

  ensure(name: string, parents: readonly string[]): Promise<void> {
    return this.creations.ensure(name, parents);
  }

  /**
   * The background round: records this replica's uses, learns the roles from the metadata, and sweeps the
   * roles idle on every replica (COMBINED_ROLE_IDLE_S); without it, only learns. A failing ledger does not keep
   * the roles from being learnt: each failed step is logged and counted on its own, and the round fails after
   * all — with the export's own error, or with CombinedRoleUpkeepFailed when only the ledger's part failed (then
   * `ledgerUpkeep` is what to try again).
   */
  async upkeep(): Promise<void> {
    const uses = this.uses;
    if (uses === undefined) return this.refresh();
    const failed: string[] = [];
    await this.ledgerStep("flush", failed, () => this.flush(uses));
    // No sweep after a failed export: it adopts the known roles, some of which may have been dropped since.
    await this.refresh();
    await this.ledgerStep("sweep", failed, () => uses.sweep(this.known, (role) => this.dropIdle(role)));
    if (failed.length > 0) throw new CombinedRoleUpkeepFailed(failed);
  }

  /**
   * The ledger's part of a round alone (flush, then sweep), tried again after a round whose export succeeded but
   * whose ledger failed. Known roles are not entered in the ledger here: only right after an export, whose roles
   * still exist.
   */
  async ledgerUpkeep(): Promise<void> {
    const uses = this.uses;
    if (uses === undefined) return;
    const failed: string[] = [];
    await this.ledgerStep("flush", failed, () => this.flush(uses));
    await this.ledgerStep("sweep", failed, () => uses.sweep(undefined, (role) => this.dropIdle(role)));
    if (failed.length > 0) throw new CombinedRoleUpkeepFailed(failed);
  }

  /**
   * Forgets the combined roles having one of `roleIds` as parent: roles deleted on another replica (DeleteRole
   * dropped their combined roles first), so that a request needing one again makes it instead of answering it.
   */
  forgetWithParents(roleIds: readonly string[]): void {
    const deleted = new Set(roleIds);
    for (const roleId of roleIds) this.deletedDuringRefresh?.add(roleId);
    // Hasura may have confirmed one before the drop removed it: an answer arriving now must not add it back.
    this.creations.abandonWithParents(deleted);
    // A creation confirmed during a refresh in flight would otherwise be put back when that refresh ends.
    for (const [name, parents] of this.confirmedDuringRefresh ?? []) {
      if (parents.some((p) => deleted.has(p))) this.confirmedDuringRefresh?.delete(name);
    }
    for (const [name, parents] of this.known) {
      const parent = parents.find((p) => deleted.has(p));
      if (parent === undefined) continue;
      this.known.delete(name);
      this.options.logger.info(
        { event: "combined_role_forgotten", role: name, parent_roles: parents, deleted_role: parent },
        "combined role forgotten: the store no longer has one of its parent roles",
      );
    }
  }

  /** Replaces what is known with the prefixed inherited roles of the metadata. */
  async refresh(): Promise<void> {
    this.confirmedDuringRefresh = new Map();
    this.deletedDuringRefresh = new Set();
    try {
      const roles = await this.exported();
      const deleted = this.deletedDuringRefresh;
      const current = roles.filter((role) => !role.role_set.some((parent) => deleted.has(parent)));
      const known = new Map(current.map((role) => [role.role_name, role.role_set] as const));
      for (const [name, parents] of this.confirmedDuringRefresh) known.set(name, parents);
      for (const name of this.dropping.keys()) known.delete(name);
      this.known = known;
      this.uses?.keepOnly(known);
    } finally {
      this.confirmedDuringRefresh = undefined;
      this.deletedDuringRefresh = undefined;
    }
  }

  async dropWithParent(roleId: string): Promise<void> {
    // Read afresh: another replica may have created combinations this one has not learnt yet.
    const roles = await this.exported().catch((error: unknown) => this.unavailable("export_metadata", error));
    for (const role of roles) {
      if (!role.role_set.includes(roleId)) continue;
      await this.drop(role.role_name, role.role_set, { reason: "parent_deleted", deleted_role: roleId });
      // Best effort: a row left behind is forgotten by a later sweep, whose drop finds the role gone.
      await this.options.idle?.ledger.forget([role.role_name]).catch(() => undefined);
    }
  }

  private async flush(uses: CombinedRoleUses): Promise<void> {
    for (const name of await uses.flush(this.known)) this.known.delete(name);
  }

  // A sweep's failed drops were logged and counted by `dropIdle`; any other failure of a step is the ledger's.
  private async ledgerStep(step: string, failed: string[], run: () => Promise<void>): Promise<void> {
    try {
      await run();
    } catch (error) {
      failed.push(step);
      if (error instanceof IdleDropFailed) return;
      this.options.onEvent?.("ledger_failed");
      this.options.logger.warn(
        { event: "combined_roles_ledger_failed", step, err: describe(error) },
        `combined roles: the ledger of their uses failed (${step}); the roles are learnt all the same`,
      );
    }
  }

  // A role idle on every replica, claimed by this one: requests needing it meanwhile wait and make it again.
  private async dropIdle(role: CombinedRoleEntry): Promise<void> {
    const idleS = Math.round((this.options.idle?.idleMs ?? 0) / 1000);
    const done = this.drop(role.name, role.parents, { reason: "idle", idle_s: idleS });
    this.dropping.set(role.name, done);
    try {
      await done;
    } catch (error) {
      this.options.logger.warn(
        {
          event: "combined_role_drop_failed",
          role: role.name,
          parent_roles: role.parents,
          err: describe(error),
        },
        "combined roles: an idle role could not be dropped; it is released, and a later sweep claims it again",
      );
      throw error;
    } finally {
      this.dropping.delete(role.name);
    }
  }

  private async drop(name: string, parents: readonly string[], why: Record<string, unknown>): Promise<void> {
    this.known.delete(name);
    this.creations.abandonDropped(name);
    try {
      await this.options.call("drop_inherited_role", { role_name: name }, this.options.createTimeoutMs);
    } catch (error) {
      // Dropped meanwhile by another replica or an operator: the goal is reached.
      if (!(error instanceof MetadataApiError && error.code === "not-exists"))
        this.unavailable("drop_inherited_role", error);
    }
    this.options.onEvent?.("dropped");
    this.options.logger.info(
      { event: "combined_role_dropped", role: name, parent_roles: parents, ...why },
      why.reason === "idle" ? "idle combined role dropped" : "combined role dropped with its deleted parent",
    );
  }

  private async exported(): Promise<InheritedRole[]> {
    const metadata = await this.options.call<{ inherited_roles?: unknown }>(
      "export_metadata",
      {},
      this.options.createTimeoutMs,
    );
    const roles = Array.isArray(metadata.inherited_roles) ? (metadata.inherited_roles as unknown[]) : [];
    return roles.filter((role): role is InheritedRole => this.isOurs(role));
  }

  private isOurs(role: unknown): boolean {
    if (typeof role !== "object" || role === null) return false;
    const { role_name: name, role_set: set } = role as Record<string, unknown>;
    return (
      typeof name === "string" &&
      name.startsWith(this.options.prefix) &&
      Array.isArray(set) &&
      set.every((parent) => typeof parent === "string")
    );
  }

  private unavailable(call: string, error: unknown): never {
    this.options.onEvent?.("failed");
    throw new UnavailableError(`combined roles: Hasura's metadata API failed (${call}): ${describe(error)}`, {
      cause: error,
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
