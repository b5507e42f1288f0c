import type { CombinedRoleEntry, CombinedRoleLedger, RecordedUses } from "../../src/core/combined-roles.js";
import { UnavailableError } from "../../src/core/errors.js";

interface Row {
  parents: readonly string[];
  lastUsed: number;
  dropUntil: number | undefined;
}

/** The combined-role ledger in memory, shared by the registries of several "replicas" in one test. */
export class MemoryLedger implements CombinedRoleLedger {
  readonly rows = new Map<string, Row>();
  sweep: { holder: string; until: number } | undefined;
  /** When true, every call rejects as an unreachable store does. */
  down = false;

  async recordUses(roles: readonly CombinedRoleEntry[], at: number): Promise<RecordedUses> {
    this.check();
    const dropping: string[] = [];
    const added: string[] = [];
    for (const { name, parents } of roles) {
      const row = this.rows.get(name);
      if (!row) {
        this.rows.set(name, { parents, lastUsed: at, dropUntil: undefined });
        added.push(name);
      } else if (row.dropUntil !== undefined && row.dropUntil > at) {
        dropping.push(name);
      } else {
        row.lastUsed = Math.max(row.lastUsed, at);
        row.dropUntil = undefined;
      }
    }
    return { dropping, added };
  }

  async touchUses(names: readonly string[], at: number): Promise<string[]> {
    this.check();
    const touched: string[] = [];
    for (const name of names) {
      const row = this.rows.get(name);
      if (!row || (row.dropUntil !== undefined && row.dropUntil > at)) continue;
      row.lastUsed = Math.max(row.lastUsed, at);
      row.dropUntil = undefined;
      touched.push(name);
    }
    return touched;
  }

  async adopt(roles: readonly CombinedRoleEntry[], at: number): Promise<void> {
    this.check();
    for (const { name, parents } of roles) {
      if (!this.rows.has(name)) this.rows.set(name, { parents, lastUsed: at, dropUntil: undefined });
    }
  }

  async takeSweep(holder: string, now: number, until: number): Promise<boolean> {
    this.check();
    if (this.sweep && this.sweep.holder !== holder && this.sweep.until > now) return false;
    this.sweep = { holder, until };
    return true;
  }

  async claimIdle(
    idleBefore: number,
    now: number,
    until: number,
    limit: number,
  ): Promise<CombinedRoleEntry[]> {
    this.check();
    const idle = [...this.rows]
      .filter(([, row]) => row.lastUsed < idleBefore && (row.dropUntil === undefined || row.dropUntil <= now))
      .sort(([, a], [, b]) => a.lastUsed - b.lastUsed)
      .slice(0, limit);
    for (const [, row] of idle) row.dropUntil = until;
    return idle.map(([name, row]) => ({ name, parents: row.parents }));
  }

  async forget(names: readonly string[]): Promise<void> {
    this.check();
    for (const name of names) this.rows.delete(name);
  }

  async holds(name: string, until: number): Promise<boolean> {
    this.check();
    return this.rows.get(name)?.dropUntil === until;
  }

  async forgetHeld(name: string, until: number): Promise<boolean> {
    this.check();
    if (this.rows.get(name)?.dropUntil !== until) return false;
    this.rows.delete(name);
    return true;
  }

  async release(names: readonly string[], until: number): Promise<void> {
    this.check();
    for (const name of names) {
      const row = this.rows.get(name);
      if (row?.dropUntil === until) row.dropUntil = undefined;
    }
  }

  private check(): void {
    if (this.down) throw new UnavailableError("ledger: store unreachable");
  }
}
