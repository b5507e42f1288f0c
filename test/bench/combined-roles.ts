import { pino } from "pino";
import { Authorizer, type AuthorizeInput } from "../../src/core/authorizer.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { CombinedRoleRegistry } from "../../src/hasura-metadata/combined-role-registry.js";
import { MemoryLedger } from "../support/memory-ledger.js";
import { round } from "./load.js";
import { withLocalIdentity } from "./local-identity.js";
import { timeLoop } from "./scaling.js";
import { signTokens } from "./tokens.js";

/** A combined decision against a single-role one, warm (token cached, combined role known). */
export interface CombinedRoleFigures {
  readonly nsPerDecision: { readonly single: number; readonly combined: number };
  /** combined / single. */
  readonly ratio: number;
}

const CALLERS = 200;
const NO_GROUPS: readonly string[] = Object.freeze([]);
const QUERY = "query Q { sales { id amount } orders { id total } }";

/**
 * In process, as test/bench/scaling.ts: 200 callers each holding 10 roles; the same two-port query is answered by a
 * role mapping both ports (single) or, for callers holding the two ports' roles apart, by their combined role
 * already known to exist (combined). Each figure is the best of three rounds of `ms`.
 */
export async function measureCombinedRoles(ms: number): Promise<CombinedRoleFigures> {
  const logger = pino({ level: "silent" });
  return withLocalIdentity({ logger }, async (issuer, identity) => {
    const others = Array.from({ length: 8 }, (_, i) => `other_${i}`);
    const roles = [
      { roleId: "sales_reader", componentId: "c-sales", rootFields: ["sales"] },
      { roleId: "orders_reader", componentId: "c-orders", rootFields: ["orders"] },
      { roleId: "both_reader", componentId: "c-both", rootFields: ["sales", "orders"] },
      ...others.map((roleId) => ({ roleId, componentId: `c-${roleId}`, rootFields: [`${roleId}_port`] })),
    ];
    const grants = (kind: string, held: string[]) =>
      Array.from({ length: CALLERS }, (_, i) =>
        held.map((roleId) => ({ subject: `user:${kind}${i}_corp.com`, roleId })),
      ).flat();
    const snapshot = Snapshot.from({
      roles,
      userGrants: [
        ...grants("single", ["both_reader", "sales_reader", ...others.slice(1)]),
        ...grants("combined", ["sales_reader", "orders_reader", ...others]),
      ],
      groupGrants: [],
    });
    const registry = new CombinedRoleRegistry({
      call: async <T>() => ({}) as T,
      prefix: "rolemapper_combined_",
      createTimeoutMs: 5000,
      maxRoles: 1000,
      logger,
      // As deployed with COMBINED_ROLE_IDLE_S: the warm path checks its trust and counts the use.
      idle: { ledger: new MemoryLedger(), idleMs: 7 * 24 * 3600_000, holder: "bench" },
    });
    const authorizer = new Authorizer({
      ...identity,
      groups: { groupsOf: async () => NO_GROUPS },
      snapshot: () => snapshot,
      operations: new OperationCache({ maxChars: 16 * 1024 * 1024 }),
      tokenHeaders: ["Authorization"],
      allowIntrospection: false,
      maxBatch: 50,
      combined: { options: { maxParents: 8, prefix: "rolemapper_combined_" }, roles: registry },
    });
    const inputs = (kind: string): AuthorizeInput[] =>
      signTokens(
        issuer,
        Array.from({ length: CALLERS }, (_, i) => ({ unique_name: `${kind}${i}@corp.com`, groups: [] })),
      ).map((token) => ({
        headers: new Map([["authorization", `Bearer ${token}`]]),
        request: { query: QUERY, operationName: undefined },
      }));
    const figures: Record<string, number> = {};
    // Single first twice: the first pass only warms the JIT and is overwritten.
    for (const kind of ["single", "single", "combined"]) {
      const batch = inputs(kind);
      for (const input of batch) {
        const result = await authorizer.authorize(input);
        const expected = kind === "single" ? "both_reader" : "rolemapper_combined_";
        if (result.outcome !== "allow" || !result.role?.startsWith(expected))
          throw new Error(
            `${kind}: expected ${expected}, got ${result.outcome} ${result.reason} ${result.role}`,
          );
      }
      figures[kind] = await timeLoop(ms, (i) =>
        authorizer.authorize(batch[i % batch.length] as AuthorizeInput),
      );
    }
    const single = figures.single!;
    const combined = figures.combined!;
    return { nsPerDecision: { single, combined }, ratio: round(combined / single, 2) };
  });
}
