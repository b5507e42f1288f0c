import type { DocumentNode } from "graphql";
import {
  CombinedRoleLedgerMissing,
  type CombinedRoleEntry,
  type CombinedRoleLedger,
  type RecordedUses,
} from "../core/combined-roles.js";
import { ledgerEntry, parentRolesText } from "./combined-ledger-rows.js";
import type { HasuraNames } from "./hasura-names.js";
import { prepareDocument, type HasuraTransport } from "./hasura-transport.js";

// Hasura's error for a field its schema lacks: 004_combined_roles.sql not applied, or its tables not tracked.
const UNTRACKED = /rolemapping_combined_(roles|sweep)/;

type Rows = { returning: { role_name: string }[] };
type RowOf = { role_name: string; parent_roles?: string };

/**
 * The combined-role ledger through Hasura, on the tables of deploy/sql/004_combined_roles.sql tracked as
 * deploy/hasura/ tracks them. Each call is one document, whose mutation fields Hasura runs in one transaction in
 * order: a use and a claim for dropping never both win.
 */
export class HasuraCombinedRoleLedger implements CombinedRoleLedger {
  private readonly documents: ReturnType<typeof ledgerDocuments>;

  constructor(
    private readonly transport: HasuraTransport,
    private readonly names: HasuraNames,
  ) {
    this.documents = ledgerDocuments(names);
  }

  async recordUses(roles: readonly CombinedRoleEntry[], at: number): Promise<RecordedUses> {
    if (roles.length === 0) return { dropping: [], added: [] };
    const names = roles.map((role) => role.name);
    const data = await this.send<{ used: Rows; added: Rows }>("recordUses", {
      names,
      at,
      rows: rows(roles, at),
    });
    const recorded = new Set([...data.used.returning, ...data.added.returning].map((row) => row.role_name));
    const unrecorded = names.filter((name) => !recorded.has(name));
    // Not updated: last used later by another replica (nothing to do), or held by a dropper (or gone since).
    const held = unrecorded.length === 0 ? [] : await this.heldOf(unrecorded, at);
    return { dropping: held, added: data.added.returning.map((row) => row.role_name) };
  }

  async touchUses(names: readonly string[], at: number): Promise<string[]> {
    if (names.length === 0) return [];
    const rows = await this.sendPerRow("touchUses", names, { at });
    return rows.map((row) => row.role_name);
  }

  async adopt(roles: readonly CombinedRoleEntry[], at: number): Promise<void> {
    if (roles.length === 0) return;
    await this.send("adopt", { rows: rows(roles, at) });
  }

  async takeSweep(holder: string, now: number, until: number): Promise<boolean> {
    const data = await this.send<{ sweep: Rows & { affected_rows: number } }>("takeSweep", {
      holder,
      now,
      until,
    });
    return data.sweep.affected_rows === 1;
  }

  async claimIdle(
    idleBefore: number,
    now: number,
    until: number,
    limit: number,
  ): Promise<CombinedRoleEntry[]> {
    const idle = await this.send<{ idle: { role_name: string }[] }>("idleRoles", { idleBefore, now, limit });
    if (idle.idle.length === 0) return [];
    const names = idle.idle.map((row) => row.role_name);
    const rows = await this.sendPerRow("claim", names, { idleBefore, now, until });
    return rows.map((row) => ledgerEntry(row.role_name, row.parent_roles));
  }

  async forget(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.send("forget", { names: [...names] });
  }

  async holds(name: string, until: number): Promise<boolean> {
    const data = await this.send<{ rows: unknown[] }>("holds", { name, until });
    return data.rows.length === 1;
  }

  async forgetHeld(name: string, until: number): Promise<boolean> {
    const data = await this.send<{ forgotten: { affected_rows: number } }>("forgetHeld", { name, until });
    return data.forgotten.affected_rows === 1;
  }

  async release(names: readonly string[], until: number): Promise<void> {
    if (names.length === 0) return;
    await this.sendPerRow("release", names, { until });
  }

  private async heldOf(names: readonly string[], at: number): Promise<string[]> {
    const data = await this.send<{ rows: { role_name: string; drop_until_ms: number | string | null }[] }>(
      "read",
      { names },
    );
    const present = new Map(data.rows.map((row) => [row.role_name, row.drop_until_ms]));
    return names.filter((name) => {
      if (!present.has(name)) return true;
      const until = present.get(name);
      return until !== null && until !== undefined && Number(until) > at;
    });
  }

  private send<T = unknown>(
    operation: keyof ReturnType<typeof ledgerDocuments>,
    variables: Record<string, unknown>,
  ): Promise<T> {
    return this.request<T>(operation, this.documents[operation], variables);
  }

  // The rows of `names` written one at a time in name order; answers the rows every field returned.
  private async sendPerRow(
    operation: keyof typeof PER_ROW,
    names: readonly string[],
    variables: Record<string, unknown>,
  ): Promise<RowOf[]> {
    const sorted = [...new Set(names)].sort();
    const document = perRowDocument(this.names.combinedRoles, operation, sorted.length);
    const perRow = Object.fromEntries(sorted.map((name, i) => [`n${i}`, name]));
    const data = await this.request<Record<string, { returning: RowOf[] }>>(operation, document, {
      ...variables,
      ...perRow,
    });
    return Object.values(data).flatMap((field) => field.returning);
  }

  private async request<T>(operation: string, document: DocumentNode, variables: Record<string, unknown>) {
    try {
      return await this.transport.request<T>(`combined roles: ${operation}`, document, variables);
    } catch (error) {
      if (error instanceof Error && UNTRACKED.test(error.message)) {
        throw new CombinedRoleLedgerMissing("the combined-role ledger tables are not tracked", {
          cause: error,
        });
      }
      throw error;
    }
  }
}

function rows(roles: readonly CombinedRoleEntry[], at: number) {
  return roles.map((role) => ({
    role_name: role.name,
    parent_roles: parentRolesText(role.parents),
    last_used_ms: at,
  }));
}

// The documents, from the tracked names; variables carry all data.
function ledgerDocuments(n: HasuraNames) {
  const t = n.combinedRoles;
  const notHeld = `_or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $at } }]`;
  return {
    recordUses:
      prepareDocument(`mutation RecordCombinedRoleUses($names: [String!]!, $at: bigint!, $rows: [${t}_insert_input!]!) {
  used: update_${t}(where: { role_name: { _in: $names }, last_used_ms: { _lte: $at }, ${notHeld} },
    _set: { last_used_ms: $at, drop_until_ms: null }) { returning { role_name } }
  added: insert_${t}(objects: $rows,
    on_conflict: { constraint: rolemapping_combined_roles_pkey, update_columns: [] }) { returning { role_name } }
}`),
    adopt: prepareDocument(`mutation AdoptCombinedRoles($rows: [${t}_insert_input!]!) {
  insert_${t}(objects: $rows, on_conflict: { constraint: rolemapping_combined_roles_pkey, update_columns: [] }) {
    affected_rows
  }
}`),
    takeSweep:
      prepareDocument(`mutation TakeCombinedRoleSweep($holder: String!, $now: bigint!, $until: bigint!) {
  sweep: insert_${n.combinedSweep}(objects: [{ singleton: true, holder: $holder, until_ms: $until }],
    on_conflict: { constraint: rolemapping_combined_sweep_pkey, update_columns: [holder, until_ms],
      where: { _or: [{ holder: { _eq: $holder } }, { until_ms: { _lte: $now } }] } }) {
    affected_rows returning { holder }
  }
}`),
    idleRoles: prepareDocument(`query IdleCombinedRoles($idleBefore: bigint!, $now: bigint!, $limit: Int!) {
  idle: ${t}(where: { last_used_ms: { _lt: $idleBefore },
      _or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $now } }] },
    order_by: { last_used_ms: asc }, limit: $limit) { role_name }
}`),
    read: prepareDocument(`query ReadCombinedRoles($names: [String!]!) {
  rows: ${t}(where: { role_name: { _in: $names } }) { role_name drop_until_ms }
}`),
    forget: prepareDocument(`mutation ForgetCombinedRoles($names: [String!]!) {
  delete_${t}(where: { role_name: { _in: $names } }) { affected_rows }
}`),
    holds: prepareDocument(`query HoldsCombinedRole($name: String!, $until: bigint!) {
  rows: ${t}(where: { role_name: { _eq: $name }, drop_until_ms: { _eq: $until } }) { role_name }
}`),
    forgetHeld: prepareDocument(`mutation ForgetHeldCombinedRole($name: String!, $until: bigint!) {
  forgotten: delete_${t}(where: { role_name: { _eq: $name }, drop_until_ms: { _eq: $until } }) { affected_rows }
}`),
  };
}

// The writes of several rows: fields per row, `$n<i>` its name. A document's mutation fields run one after another
// in one transaction, so rows in name order are locked in name order by every replica: two never deadlock, as one
// update over all of them (locking in whatever order its plan meets them) and a second one could.
const PER_ROW = {
  // Without GREATEST: a row used earlier moves to $at, a row used later only loses an expired hold; both answer.
  touchUses: {
    variables: "$at: bigint!",
    fields: (t: string, n: string) => {
      const notHeld = `_or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $at } }]`;
      return [
        `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _lte: $at }, ${notHeld} },
    _set: { last_used_ms: $at, drop_until_ms: null }) { returning { role_name } }`,
        `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _gt: $at }, ${notHeld} },
    _set: { drop_until_ms: null }) { returning { role_name } }`,
      ];
    },
  },
  claim: {
    variables: "$idleBefore: bigint!, $now: bigint!, $until: bigint!",
    fields: (t: string, n: string) => [
      `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _lt: $idleBefore },
      _or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $now } }] },
    _set: { drop_until_ms: $until }) { returning { role_name parent_roles } }`,
    ],
  },
  release: {
    variables: "$until: bigint!",
    fields: (t: string, n: string) => [
      `update_${t}(where: { role_name: { _eq: ${n} }, drop_until_ms: { _eq: $until } },
    _set: { drop_until_ms: null }) { returning { role_name } }`,
    ],
  },
} as const;

// Built per call, as its length follows the rows; the contract tests parse every kind.
function perRowDocument(t: string, operation: keyof typeof PER_ROW, count: number): DocumentNode {
  const { variables, fields } = PER_ROW[operation];
  const names = Array.from({ length: count }, (_, i) => `$n${i}: String!`);
  const body = names.flatMap((_, i) => fields(t, `$n${i}`).map((field, f) => `  r${i}_${f}: ${field}`));
  return prepareDocument(
    `mutation ${operation}(${[variables, ...names].join(", ")}) {\n${body.join("\n")}\n}`,
  );
}
