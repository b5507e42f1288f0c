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
 * deploy/hasura/ tracks them. Each request is one document, whose mutation fields Hasura runs in one transaction in
 * order: a use and a claim for dropping never both win. A call over many rows that stand alone (an adoption, a
 * round's uses, a claim, a release, a forget) is a request per PER_REQUEST_ROWS rows.
 */
export class HasuraCombinedRoleLedger implements CombinedRoleLedger {
  private readonly documents: ReturnType<typeof ledgerDocuments>;

  constructor(
    private readonly transport: HasuraTransport,
    private readonly names: HasuraNames,
  ) {
    this.documents = ledgerDocuments(names);
  }

  // One request: per role in name order an insert that does nothing on conflict (made here), then the updates
  // that record a use of a row no dropper holds; a role neither made nor updated is held by a dropper.
  async recordUses(roles: readonly CombinedRoleEntry[], at: number): Promise<RecordedUses> {
    if (roles.length === 0) return { dropping: [], added: [] };
    const parents = new Map(roles.map((role) => [role.name, parentRolesText(role.parents)]));
    const written = await this.sendPerRow("recordUses", [...parents.keys()], { at }, parents);
    const recorded = new Set([...written.used, ...written.later].map((row) => row.role_name));
    return {
      dropping: [...parents.keys()].filter((name) => !recorded.has(name)).sort(),
      added: written.added.map((row) => row.role_name),
    };
  }

  async touchUses(names: readonly string[], at: number): Promise<string[]> {
    if (names.length === 0) return [];
    const written = await this.sendPerRow("touchUses", names, { at });
    return [...written.used, ...written.later].map((row) => row.role_name);
  }

  async adopt(roles: readonly CombinedRoleEntry[], at: number): Promise<void> {
    if (roles.length === 0) return;
    // The first entry of a name is the one inserted, as when all were one insert.
    const parents = new Map([...roles].reverse().map((role) => [role.name, parentRolesText(role.parents)]));
    await this.sendPerRow("adopt", [...parents.keys()], { at }, parents);
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
    const { claimed } = await this.sendPerRow("claim", names, { idleBefore, now, until });
    return claimed.map((row) => ledgerEntry(row.role_name, row.parent_roles));
  }

  async forget(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    await this.sendPerRow("forget", names, {});
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

  private send<T = unknown>(
    operation: keyof ReturnType<typeof ledgerDocuments>,
    variables: Record<string, unknown>,
  ): Promise<T> {
    return this.request<T>(operation, this.documents[operation], variables);
  }

  // The rows of `names` written one at a time in name order (with `parents` their `parent_roles`); answers the
  // rows each kind of field returned. Rows independent of each other go PER_REQUEST_ROWS to a request, in name order
  // across them, so that a document stays small whatever COMBINED_ROLE_MAX allows; a use's rows are one request.
  private async sendPerRow<O extends keyof PerRow>(
    operation: O,
    names: readonly string[],
    variables: Record<string, unknown>,
    parents?: ReadonlyMap<string, string>,
  ): Promise<Written<O>> {
    const sorted = [...new Set(names)].sort();
    const size = PER_ROW[operation].allOrNone ? sorted.length : PER_REQUEST_ROWS;
    const kinds = Object.keys(PER_ROW[operation].fields);
    const written = Object.fromEntries(kinds.map((kind) => [kind, [] as RowOf[]]));
    for (let start = 0; start < sorted.length; start += size) {
      const rows = sorted.slice(start, start + size);
      const data = await this.sendRows(operation, rows, variables, parents);
      for (const kind of kinds)
        written[kind]!.push(...rows.flatMap((_, i) => data[`${kind}${i}`]?.returning ?? []));
    }
    return written as Written<O>;
  }

  // One request writing `rows` (sorted) one mutation field at a time.
  private sendRows(
    operation: keyof PerRow,
    rows: readonly string[],
    variables: Record<string, unknown>,
    parents: ReadonlyMap<string, string> | undefined,
  ): Promise<Record<string, { returning: RowOf[] } | undefined>> {
    const document = perRowDocument(this.names.combinedRoles, operation, rows.length);
    const perRow = Object.fromEntries(
      rows.flatMap((name, i) => [[`n${i}`, name], ...(parents ? [[`p${i}`, parents.get(name)]] : [])]),
    );
    return this.request(operation, document, { ...variables, ...perRow });
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

// The documents, from the tracked names; variables carry all data.
function ledgerDocuments(n: HasuraNames) {
  const t = n.combinedRoles;
  return {
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
    holds: prepareDocument(`query HoldsCombinedRole($name: String!, $until: bigint!) {
  rows: ${t}(where: { role_name: { _eq: $name }, drop_until_ms: { _eq: $until } }) { role_name }
}`),
    forgetHeld: prepareDocument(`mutation ForgetHeldCombinedRole($name: String!, $until: bigint!) {
  forgotten: delete_${t}(where: { role_name: { _eq: $name }, drop_until_ms: { _eq: $until } }) { affected_rows }
}`),
  };
}

// The writes of several rows: fields per row, aliased `<kind><i>`, `$n<i>` its name (`$p<i>` its parents). A
// document's mutation fields run one after another in one transaction, so rows in name order are locked in name
// order by every replica: two never deadlock, as one update over all of them (locking in whatever order its plan
// meets them) and a second one could.
/** Most rows in one request where each row stands alone (all but a use's). */
export const PER_REQUEST_ROWS = 256;
const NOT_HELD = `_or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $at } }]`;
// A row made unless one exists, last used at $at.
const INSERT = (t: string, n: string, p: string) =>
  `insert_${t}(objects: [{ role_name: ${n}, parent_roles: ${p}, last_used_ms: $at }],
    on_conflict: { constraint: rolemapping_combined_roles_pkey, update_columns: [] }) { returning { role_name } }`;
// Without GREATEST: a row used earlier moves to $at, a row used later only loses an expired hold; both answer.
const USE = {
  used: (t: string, n: string) =>
    `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _lte: $at }, ${NOT_HELD} },
    _set: { last_used_ms: $at, drop_until_ms: null }) { returning { role_name } }`,
  later: (t: string, n: string) =>
    `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _gt: $at }, ${NOT_HELD} },
    _set: { drop_until_ms: null }) { returning { role_name } }`,
};
const PER_ROW = {
  // The insert first: one racing with another replica's insert of the row waits for it, and the updates then
  // find the row (an update first would miss it, and the insert do nothing).
  recordUses: {
    variables: "$at: bigint!",
    parents: true,
    allOrNone: true,
    fields: { added: INSERT, ...USE },
  },
  touchUses: { variables: "$at: bigint!", parents: false, allOrNone: false, fields: USE },
  adopt: { variables: "$at: bigint!", parents: true, allOrNone: false, fields: { adopted: INSERT } },
  claim: {
    variables: "$idleBefore: bigint!, $now: bigint!, $until: bigint!",
    parents: false,
    allOrNone: false,
    fields: {
      claimed: (t: string, n: string) =>
        `update_${t}(where: { role_name: { _eq: ${n} }, last_used_ms: { _lt: $idleBefore },
      _or: [{ drop_until_ms: { _is_null: true } }, { drop_until_ms: { _lte: $now } }] },
    _set: { drop_until_ms: $until }) { returning { role_name parent_roles } }`,
    },
  },
  release: {
    variables: "$until: bigint!",
    parents: false,
    allOrNone: false,
    fields: {
      released: (t: string, n: string) =>
        `update_${t}(where: { role_name: { _eq: ${n} }, drop_until_ms: { _eq: $until } },
    _set: { drop_until_ms: null }) { returning { role_name } }`,
    },
  },
  forget: {
    variables: "",
    parents: false,
    allOrNone: false,
    fields: {
      forgotten: (t: string, n: string) =>
        `delete_${t}(where: { role_name: { _eq: ${n} } }) { returning { role_name } }`,
    },
  },
} as const;

type PerRow = typeof PER_ROW;
type Written<O extends keyof PerRow> = Record<keyof PerRow[O]["fields"], RowOf[]>;

// Built per call, as its length follows the rows; the contract tests parse every kind.
function perRowDocument(t: string, operation: keyof PerRow, count: number): DocumentNode {
  const { variables, parents, fields } = PER_ROW[operation];
  const rows = Array.from({ length: count }, (_, i) => i);
  const declared = rows.flatMap((i) => [`$n${i}: String!`, ...(parents ? [`$p${i}: String!`] : [])]);
  const body = rows.flatMap((i) =>
    Object.entries(fields).map(([kind, field]) => `  ${kind}${i}: ${field(t, `$n${i}`, `$p${i}`)}`),
  );
  return prepareDocument(
    `mutation ${operation}(${[variables, ...declared].filter(Boolean).join(", ")}) {\n${body.join("\n")}\n}`,
  );
}
