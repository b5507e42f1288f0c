import {
  CombinedRoleLedgerMissing,
  type CombinedRoleEntry,
  type CombinedRoleLedger,
  type RecordedUses,
} from "../core/combined-roles.js";
import { ledgerEntry, parentRolesText } from "./combined-ledger-rows.js";
import type { SqlQueryable, SqlRow } from "./sql-client.js";
import { sqlState, toStoreError } from "./sql-errors.js";

// PostgreSQL's undefined_table: deploy/sql/004_combined_roles.sql was not applied.
const UNDEFINED_TABLE = "42P01";

/**
 * The combined-role ledger in the tables of deploy/sql/004_combined_roles.sql (schema `s`, quoted). Each call is
 * one statement, atomic on its rows: a use and a claim for dropping never both win.
 */
export class SqlCombinedRoleLedger implements CombinedRoleLedger {
  constructor(
    private readonly db: SqlQueryable,
    private readonly s: string,
  ) {}

  async recordUses(roles: readonly CombinedRoleEntry[], at: number): Promise<RecordedUses> {
    if (roles.length === 0) return { dropping: [], added: [] };
    // In name order, so that two replicas recording the same roles lock their rows in one order.
    const sorted = byName(roles);
    const rows = await this.run(
      `INSERT INTO ${this.s}.rolemapping_combined_roles AS t (role_name, parent_roles, last_used_ms)
       SELECT n, p, $3 FROM unnest($1::text[], $2::text[]) AS wanted(n, p)
       ON CONFLICT (role_name) DO UPDATE
         SET last_used_ms = GREATEST(t.last_used_ms, excluded.last_used_ms), drop_until_ms = NULL
         WHERE t.drop_until_ms IS NULL OR t.drop_until_ms <= excluded.last_used_ms
       RETURNING role_name, (xmax = 0) AS added`,
      [sorted.map((role) => role.name), sorted.map((role) => parentRolesText(role.parents)), at],
    );
    const recorded = new Set(rows.map((row) => row.role_name as string));
    return {
      dropping: sorted.filter((role) => !recorded.has(role.name)).map((role) => role.name),
      added: rows.filter((row) => row.added === true).map((row) => row.role_name as string),
    };
  }

  async touchUses(names: readonly string[], at: number): Promise<string[]> {
    if (names.length === 0) return [];
    // Rows locked in name order first, as recordUses does: two replicas touching the same roles never deadlock.
    const rows = await this.run(
      `UPDATE ${this.s}.rolemapping_combined_roles
         SET last_used_ms = GREATEST(last_used_ms, $2), drop_until_ms = NULL
       WHERE role_name IN (
         SELECT role_name FROM ${this.s}.rolemapping_combined_roles
         WHERE role_name = ANY($1::text[]) ORDER BY role_name FOR UPDATE)
       AND (drop_until_ms IS NULL OR drop_until_ms <= $2)
       RETURNING role_name`,
      [[...names], at],
    );
    return rows.map((row) => row.role_name as string);
  }

  async adopt(roles: readonly CombinedRoleEntry[], at: number): Promise<void> {
    if (roles.length === 0) return;
    // In name order, as recordUses inserts them (a stable sort: the first entry of a name is the one inserted).
    const sorted = byName(roles);
    await this.run(
      `INSERT INTO ${this.s}.rolemapping_combined_roles (role_name, parent_roles, last_used_ms)
       SELECT n, p, $3 FROM unnest($1::text[], $2::text[]) AS wanted(n, p)
       ON CONFLICT (role_name) DO NOTHING`,
      [sorted.map((role) => role.name), sorted.map((role) => parentRolesText(role.parents)), at],
    );
  }

  async takeSweep(holder: string, now: number, until: number): Promise<boolean> {
    const rows = await this.run(
      `INSERT INTO ${this.s}.rolemapping_combined_sweep AS t (singleton, holder, until_ms) VALUES (true, $1, $3)
       ON CONFLICT (singleton) DO UPDATE SET holder = excluded.holder, until_ms = excluded.until_ms
         WHERE t.holder = excluded.holder OR t.until_ms <= $2
       RETURNING holder`,
      [holder, now, until],
    );
    return rows.length === 1;
  }

  async claimIdle(
    idleBefore: number,
    now: number,
    until: number,
    limit: number,
  ): Promise<CombinedRoleEntry[]> {
    const rows = await this.run(
      `UPDATE ${this.s}.rolemapping_combined_roles SET drop_until_ms = $3
       WHERE role_name IN (
         SELECT role_name FROM ${this.s}.rolemapping_combined_roles
         WHERE last_used_ms < $1 AND (drop_until_ms IS NULL OR drop_until_ms <= $2)
         ORDER BY last_used_ms LIMIT $4 FOR UPDATE SKIP LOCKED)
       AND last_used_ms < $1 AND (drop_until_ms IS NULL OR drop_until_ms <= $2)
       RETURNING role_name, parent_roles`,
      [idleBefore, now, until, limit],
    );
    return rows.map((row) => ledgerEntry(row.role_name as string, row.parent_roles));
  }

  async forget(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    // Rows locked in name order first, as touchUses does.
    await this.run(
      `DELETE FROM ${this.s}.rolemapping_combined_roles
       WHERE role_name IN (
         SELECT role_name FROM ${this.s}.rolemapping_combined_roles
         WHERE role_name = ANY($1::text[]) ORDER BY role_name FOR UPDATE)`,
      [[...names]],
    );
  }

  async holds(name: string, until: number): Promise<boolean> {
    const rows = await this.run(
      `SELECT 1 FROM ${this.s}.rolemapping_combined_roles WHERE role_name = $1 AND drop_until_ms = $2`,
      [name, until],
    );
    return rows.length === 1;
  }

  async forgetHeld(name: string, until: number): Promise<boolean> {
    const rows = await this.run(
      `DELETE FROM ${this.s}.rolemapping_combined_roles WHERE role_name = $1 AND drop_until_ms = $2
       RETURNING role_name`,
      [name, until],
    );
    return rows.length === 1;
  }

  async release(names: readonly string[], until: number): Promise<void> {
    if (names.length === 0) return;
    // In name order, as touchUses locks them.
    await this.run(
      `UPDATE ${this.s}.rolemapping_combined_roles SET drop_until_ms = NULL
       WHERE role_name IN (
         SELECT role_name FROM ${this.s}.rolemapping_combined_roles
         WHERE role_name = ANY($1::text[]) AND drop_until_ms = $2 ORDER BY role_name FOR UPDATE)
       AND drop_until_ms = $2`,
      [[...names], until],
    );
  }

  private async run(text: string, params: readonly unknown[]): Promise<SqlRow[]> {
    try {
      return await this.db.query(text, params);
    } catch (error) {
      if (sqlState(error) === UNDEFINED_TABLE) {
        throw new CombinedRoleLedgerMissing("the combined-role ledger tables do not exist", { cause: error });
      }
      throw toStoreError(error);
    }
  }
}

function byName(roles: readonly CombinedRoleEntry[]): CombinedRoleEntry[] {
  return [...roles].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
