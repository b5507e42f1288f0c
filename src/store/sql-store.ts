import { DEFAULTS } from "../config/defaults.js";
import type { CombinedRoleLedger } from "../core/combined-roles.js";
import { InvalidArgumentError } from "../core/errors.js";
import type { GroupPin, MappingData, Role, RoleGrants } from "../core/mapping.js";
import { GROUP_PREFIX } from "../core/subjects.js";
import type {
  DeletedRole,
  JournalRead,
  ReplacedGrants,
  RoleMappingStore,
  RolePage,
  StoreChecksum,
  UpsertedRole,
} from "../core/store-port.js";
import type { SqlClient, SqlQueryable } from "./sql-client.js";
import { SqlCombinedRoleLedger } from "./sql-combined-ledger.js";
import { RETRYABLE_SQLSTATES, sqlState, toStoreError } from "./sql-errors.js";
import { grantsQuery, groupTable, toGrants, userTable, type GrantTable } from "./sql-grants.js";
import { journalMissing, readChanges, readChecksum, selectRoles } from "./sql-journal.js";
import { DEFAULT_LOAD_PAGE_SIZE, loadAllPaged } from "./sql-load.js";
import { migrateSchema } from "./sql-migrate.js";
import { pinAbsentIn, selectPins, selectPinsOf } from "./sql-pins.js";
import { quoteSchema } from "./sql-schema.js";
import { deleteRoleIn, replaceGrantsIn, upsertRoleIn } from "./sql-writes.js";
import { WriteTags } from "./write-tags.js";

/** Subscribes to the store's change notifications; returns how to stop. */
export type ChangeFeed = (onChange: () => void) => () => Promise<void>;

/** How to build a SqlStore. */
export interface SqlStoreOptions {
  /** The database; the store owns it and closes it on close(). */
  readonly client: SqlClient;
  /** Schema holding the four tables (default `rolemapping`); a plain SQL identifier. */
  readonly schema?: string;
  /** Apply the idempotent migration before use (always wanted for the embedded database). */
  readonly migrate?: boolean;
  /** Roles per page in loadAll (a page carries those roles' fields or grants). */
  readonly loadPageSize?: number;
  /** Notifications of committed writes (PostgreSQL's LISTEN on its own connection), if any. */
  readonly changeFeed?: ChangeFeed;
}

/** Builds a SqlStore, migrating the schema first when asked; closes the client when that fails. */
export async function createSqlStore(options: SqlStoreOptions): Promise<SqlStore> {
  const schema = options.schema ?? DEFAULTS.store.schema;
  try {
    const store = new SqlStore(
      options.client,
      schema,
      options.loadPageSize ?? DEFAULT_LOAD_PAGE_SIZE,
      options.changeFeed,
    );
    if (options.migrate) await migrateSchema(options.client, schema);
    return store;
  } catch (error) {
    // The store owns the client: a store that cannot start must not leave a pool or database open.
    await options.client.close().catch(() => undefined);
    throw error;
  }
}

// Deadlocks and serialization failures between concurrent writers are resolved by running the write again.
const WRITE_ATTEMPTS = 3;

/**
 * The role mappings in PostgreSQL (a server through `pg`, or embedded PGlite): the same SQL for both.
 * Every write is one transaction (see sql-writes.ts), run again when it lost a deadlock to another writer, and
 * tagged so that the journal tells this client's answered writes apart (see write-tags.ts).
 */
export class SqlStore implements RoleMappingStore {
  private readonly s: string;
  private readonly users: GrantTable;
  private readonly groups: GrantTable;
  private readonly tags = new WriteTags();
  readonly watchChanges: ChangeFeed | undefined;

  constructor(
    private readonly client: SqlClient,
    schema: string,
    private readonly loadPageSize: number = DEFAULT_LOAD_PAGE_SIZE,
    changeFeed?: ChangeFeed,
  ) {
    this.s = quoteSchema(schema);
    this.users = userTable(this.s);
    this.groups = groupTable(this.s);
    this.watchChanges = changeFeed;
    if (!Number.isInteger(loadPageSize) || loadPageSize < 1) {
      throw new InvalidArgumentError("loadPageSize", "expected a positive integer");
    }
  }

  /** The ledger of combined roles, in the same database (deploy/sql/004_combined_roles.sql). */
  combinedRoleLedger(): CombinedRoleLedger {
    return new SqlCombinedRoleLedger(this.client, this.s);
  }

  /** Every role and grant, read page by page inside one consistent read-only transaction. */
  loadAll(): Promise<MappingData> {
    return this.read(() =>
      this.client.transaction(async (tx) => {
        await tx.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
        return loadAllPaged(tx, this.s, this.loadPageSize);
      }),
    );
  }

  /** The version counter the triggers bump on every statement that writes one of the four tables. */
  changeMarker(): Promise<string> {
    return this.read(async () => {
      const rows = await this.client.query(`SELECT version::text AS v FROM ${this.s}.rolemapping_version`);
      // A deleted marker row stops moving; the periodic full reload still catches every change.
      return typeof rows[0]?.v === "string" ? rows[0].v : "none";
    });
  }

  /** The journal after `since`, with the marker and floor from the same snapshot. */
  async changesSince(since: string, limit: number): Promise<JournalRead> {
    try {
      return await readChanges(this.client, this.s, since, limit, this.tags);
    } catch (error) {
      if (journalMissing(sqlState(error))) return { complete: false, reason: "missing" };
      throw toStoreError(error);
    }
  }

  /** The roles among `roleIds`, their root fields and grants, in one statement. */
  loadRoles(roleIds: readonly string[]): Promise<MappingData> {
    return this.read(() => selectRoles(this.client, this.s, roleIds));
  }

  /** The checksum of the roles not changed after `since`, computed by the database in one statement. */
  async checksum(since: string): Promise<StoreChecksum | undefined> {
    try {
      return await readChecksum(this.client, this.s, since);
    } catch (error) {
      if (journalMissing(sqlState(error))) return undefined;
      throw toStoreError(error);
    }
  }

  /** Creates or updates the role; ConflictError when role_id or component_id is bound otherwise. */
  upsertRole(role: Role): Promise<UpsertedRole> {
    return this.write((tx) => upsertRoleIn(tx, this.s, role));
  }

  /** Afterwards exactly `users` hold the role, each with a fresh last_update. */
  setUserRoles(roleId: string, users: readonly string[]): Promise<ReplacedGrants> {
    return this.replaceGrants(this.users, roleId, users);
  }

  /** Afterwards exactly `groups` hold the role, each with a fresh last_update; `pins` stored with them. */
  setGroupRoles(
    roleId: string,
    groups: readonly string[],
    pins: readonly GroupPin[] = [],
  ): Promise<ReplacedGrants> {
    return this.write((tx) => replaceGrantsIn(tx, this.s, this.groups, roleId, groups, pins));
  }

  /** Every group pin. */
  loadGroupPins(): Promise<GroupPin[]> {
    return this.read(() => selectPins(this.client, this.s));
  }

  /** The pins of `groups`. */
  loadGroupPinsOf(groups: readonly string[]): Promise<GroupPin[]> {
    return this.read(() => selectPinsOf(this.client, this.s, groups));
  }

  /** Stores the pins of groups that have none; the pins stored for those groups afterwards. */
  pinGroups(pins: readonly GroupPin[]): Promise<GroupPin[]> {
    return this.write((tx) => pinAbsentIn(tx, this.s, pins));
  }

  /** Removes the role, its root fields and its grants in one transaction. */
  deleteRole(roleId: string): Promise<DeletedRole> {
    return this.write((tx) => deleteRoleIn(tx, this.s, roleId));
  }

  /** The role with this id and its root fields (sorted). */
  getRole(roleId: string): Promise<Role | undefined> {
    return this.read(() => this.selectRole("role_id", roleId));
  }

  /** The role bound to this component. */
  getRoleByComponent(componentId: string): Promise<Role | undefined> {
    return this.read(() => this.selectRole("component_id", componentId));
  }

  /** The users and groups (sorted) holding the role; undefined when the role is missing. */
  getRoleGrants(roleId: string): Promise<RoleGrants | undefined> {
    return this.read(async () => {
      // One statement, so the role and its grants come from one snapshot.
      const rows = await this.client.query(
        `SELECT 'r' AS kind, role_id AS subject FROM ${this.s}.roles WHERE role_id = $1
         UNION ALL ${grantsQuery(this.s)}`,
        [roleId],
      );
      if (!rows.some((row) => row.kind === "r")) return undefined;
      return toGrants(roleId, rows);
    });
  }

  /** Roles in byte order of `role_id` (COLLATE "C": the same on every server and in PGlite). */
  async listRoles(pageSize: number, after: string | undefined): Promise<RolePage> {
    if (!Number.isInteger(pageSize) || pageSize < 1) {
      throw new InvalidArgumentError("page_size", "expected a positive integer");
    }
    return await this.read(async () => {
      // One row more than asked tells whether another page follows.
      const rows = await this.client.query(
        `SELECT role_id, component_id FROM ${this.s}.roles
         WHERE $2::text IS NULL OR role_id COLLATE "C" > $2::text
         ORDER BY role_id COLLATE "C" LIMIT $1`,
        [pageSize + 1, after ?? null],
      );
      const page = rows.slice(0, pageSize);
      const ids = page.map((row) => row.role_id as string);
      const fieldRows = await this.client.query(
        `SELECT role_id, graphql_root_field_name AS field FROM ${this.s}.role_graphql_root_field_names
         WHERE role_id = ANY($1::text[])`,
        [ids],
      );
      const fieldsOf = new Map<string, string[]>();
      for (const row of fieldRows) {
        const list = fieldsOf.get(row.role_id as string) ?? [];
        list.push(row.field as string);
        fieldsOf.set(row.role_id as string, list);
      }
      const roles = page.map((row) => ({
        roleId: row.role_id as string,
        componentId: row.component_id as string,
        rootFields: (fieldsOf.get(row.role_id as string) ?? []).sort(),
      }));
      return { roles, nextAfter: rows.length > pageSize ? ids[ids.length - 1] : undefined };
    });
  }

  /** The role ids a `user:…` or `group:…` subject holds directly, sorted. */
  listSubjectRoles(subject: string): Promise<string[]> {
    const { table, column } = subject.startsWith(GROUP_PREFIX) ? this.groups : this.users;
    return this.read(async () => {
      const rows = await this.client.query(`SELECT role_id FROM ${table} WHERE ${column} = $1`, [subject]);
      return rows.map((row) => row.role_id as string).sort();
    });
  }

  /** Resolves when the database answers; UnavailableError otherwise. */
  ping(): Promise<void> {
    return this.read(async () => {
      await this.client.query("SELECT 1");
    });
  }

  /** Closes the database client. */
  close(): Promise<void> {
    return this.client.close();
  }

  private replaceGrants(
    kind: GrantTable,
    roleId: string,
    subjects: readonly string[],
  ): Promise<ReplacedGrants> {
    return this.write((tx) => replaceGrantsIn(tx, this.s, kind, roleId, subjects));
  }

  private async selectRole(key: "role_id" | "component_id", value: string): Promise<Role | undefined> {
    const rows = await this.client.query(
      `SELECT r.role_id, r.component_id, f.graphql_root_field_name AS field
       FROM ${this.s}.roles r LEFT JOIN ${this.s}.role_graphql_root_field_names f ON f.role_id = r.role_id
       WHERE r.${key} = $1`,
      [value],
    );
    const first = rows[0];
    if (!first) return undefined;
    const rootFields = rows.flatMap((row) => (typeof row.field === "string" ? [row.field] : [])).sort();
    return { roleId: first.role_id as string, componentId: first.component_id as string, rootFields };
  }

  private async read<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  private write<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.tags.run(async (tag) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.client.transaction(async (tx) => {
            // The journal's triggers read the tag (transaction-local) into each entry's writer.
            await tx.query("SELECT set_config('rolemapper.writer', $1, true)", [tag]);
            return work(tx);
          });
        } catch (error) {
          const state = sqlState(error);
          if (attempt < WRITE_ATTEMPTS && state !== undefined && RETRYABLE_SQLSTATES.has(state)) continue;
          throw toStoreError(error);
        }
      }
    });
  }
}
