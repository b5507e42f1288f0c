import { Authorizer, type AuthorizeInput } from "../../src/core/authorizer.js";
import type { GroupProvider } from "../../src/core/identity.js";
import { decide } from "../../src/core/decision.js";
import type { Grant, Role } from "../../src/core/mapping.js";
import { analyzeOperation } from "../../src/core/operation.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { groupSubject, userSubject } from "../../src/core/subjects.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { round } from "./load.js";
import { withLocalIdentity } from "./local-identity.js";
import { signTokens } from "./tokens.js";

/** One point of the scaling grid. */
export interface Point {
  readonly roles: number;
  readonly groups: number;
  /** Groups from a warm group-provider cache (as Microsoft Graph's) instead of the token's claim. */
  readonly provider?: boolean;
}

const POINTS: readonly Point[] = [
  { roles: 10, groups: 1 },
  { roles: 1_000, groups: 1 },
  { roles: 100_000, groups: 1 },
  { roles: 10, groups: 100 },
  { roles: 10, groups: 1_000 },
  { roles: 100_000, groups: 1_000 },
  { roles: 10, groups: 1, provider: true },
  { roles: 10, groups: 1_000, provider: true },
];
/** Callers of each point. */
export const CALLERS = 200;

/** Nanoseconds per decision at each point, and the ratios the targets name. */
export interface ScalingFigures {
  /** `authorize` end to end for a warm token (token, groups and operation caches hit). */
  readonly nsPerDecision: Record<string, number>;
  /** The same caller's first decision cost without caches: role set of user and groups, then `decide`. */
  readonly nsPerUncachedRoleSetAndDecide: Record<string, number>;
  readonly ratios: Record<string, number>;
}

/**
 * An in-process micro-benchmark of Authorizer.authorize built as the sidecar builds it (caching JWT verifier
 * from buildIdentity over a local key set, claims groups, operation cache) on synthetic snapshots of 10 to
 * 100,000 roles and 1 to 1,000 groups per user. Each point runs three rounds of `ms` milliseconds over 200
 * callers and keeps the best.
 */
export async function measureScaling(ms: number): Promise<ScalingFigures> {
  return withLocalIdentity({ env: { JWT_MAX_TOKEN_BYTES: String(256 * 1024) } }, async (issuer, identity) => {
    const tokensByGroups = new Map<number, string[]>();
    const nsPerDecision: Record<string, number> = {};
    const nsUncached: Record<string, number> = {};
    // The first point runs twice: its first pass only warms the JIT and is not recorded.
    for (const [pass, point] of [POINTS[0] as Point, ...POINTS].entries()) {
      const key =
        pass === 0
          ? "warm-up"
          : `roles=${point.roles},groups=${point.groups}${point.provider ? ",fromProvider" : ""}`;
      const callers = buildCallers(point);
      // With a provider, the token carries no groups (its size stays that of the one-group point).
      const inToken = point.provider ? 0 : point.groups;
      let tokens = tokensByGroups.get(inToken);
      if (!tokens) {
        tokens = signTokens(
          issuer,
          callers.map((c) => ({ unique_name: c.name, groups: point.provider ? [] : c.groups })),
        );
        tokensByGroups.set(inToken, tokens);
      }
      const byName = new Map(callers.map((c) => [c.name, c.groups]));
      const groups: GroupProvider = point.provider
        ? { groupsOf: async (claims) => byName.get(String(claims.unique_name)) ?? [] }
        : identity.groups!;
      const snapshot = Snapshot.from(buildData(point));
      const authorizer = new Authorizer({
        ...identity,
        groups,
        snapshot: () => snapshot,
        operations: new OperationCache({ maxChars: 16 * 1024 * 1024 }),
        tokenHeaders: ["Authorization"],
        allowIntrospection: false,
        maxBatch: 50,
      });
      const inputs: AuthorizeInput[] = callers.map((caller, i) => ({
        headers: new Map([["authorization", `Bearer ${tokens[i]}`]]),
        request: { query: caller.query, operationName: undefined },
      }));
      for (const input of inputs) {
        const result = await authorizer.authorize(input);
        if (result.outcome !== "allow") throw new Error(`${key}: expected allow, got ${result.reason}`);
      }
      nsPerDecision[key] = await timeLoop(ms, async (i) => {
        await authorizer.authorize(inputs[i % inputs.length] as AuthorizeInput);
      });
      const prepared = callers.map((caller) => ({
        user: userSubject(caller.name),
        groups: caller.groups.map(groupSubject),
        operations: [analyzeOperation(caller.query, undefined)],
      }));
      nsUncached[key] = await timeLoop(ms, (i) => {
        const p = prepared[i % prepared.length] as (typeof prepared)[number];
        const heldRoles = snapshot.rolesOf(p.user, p.groups);
        decide(
          { heldRoles, operations: p.operations, requestedRole: undefined, allowIntrospection: false },
          snapshot,
        );
      });
    }
    delete nsPerDecision["warm-up"];
    delete nsUncached["warm-up"];
    const base = nsPerDecision["roles=10,groups=1"] as number;
    return {
      nsPerDecision,
      nsPerUncachedRoleSetAndDecide: nsUncached,
      ratios: {
        roles1kTo10: round((nsPerDecision["roles=1000,groups=1"] as number) / base, 3),
        roles100kTo10: round((nsPerDecision["roles=100000,groups=1"] as number) / base, 3),
        groups100To1: round((nsPerDecision["roles=10,groups=100"] as number) / base, 3),
        groups1000To1: round((nsPerDecision["roles=10,groups=1000"] as number) / base, 3),
        roles100kGroups1000To10And1: round((nsPerDecision["roles=100000,groups=1000"] as number) / base, 3),
        groups1000FromProviderTo1: round(
          (nsPerDecision["roles=10,groups=1000,fromProvider"] as number) /
            (nsPerDecision["roles=10,groups=1,fromProvider"] as number),
          3,
        ),
      },
    };
  });
}

/** One synthetic caller: its name, groups and query. */
export interface Caller {
  readonly name: string;
  readonly groups: readonly string[];
  readonly query: string;
}

/**
 * Caller u holds roles u and u+1 (mod roles) directly and its groups hold others; it queries two fields of
 * role u. Groups are drawn from a pool of 2,000 (or twice the groups per user), each holding one role.
 */
export function buildCallers(point: Point): Caller[] {
  const pool = Math.max(2_000, point.groups * 2);
  return Array.from({ length: CALLERS }, (_, u) => {
    const role = (u * 7) % point.roles;
    return {
      name: `person-${u}@corp.com`,
      groups: Array.from({ length: point.groups }, (_, g) => `g${(u * 13 + g * 17) % pool}`),
      query: `query Report { f_${role}_a(limit: 10) { id amount } f_${role}_b { id } __typename }`,
    };
  });
}

/** The mappings of a point: roles, each caller's two user grants, and one role per pool group. */
export function buildData(point: Point): { roles: Role[]; userGrants: Grant[]; groupGrants: Grant[] } {
  const pool = Math.max(2_000, point.groups * 2);
  const roles: Role[] = Array.from({ length: point.roles }, (_, r) => ({
    roleId: `role_${String(r).padStart(6, "0")}`,
    componentId: `urn:cmp:${r}`,
    rootFields: [`f_${r}_a`, `f_${r}_b`, `f_${r}_c`],
  }));
  const userGrants: Grant[] = [];
  for (let u = 0; u < CALLERS; u++) {
    const role = (u * 7) % point.roles;
    userGrants.push({ subject: userSubject(`person-${u}@corp.com`), roleId: roles[role]!.roleId });
    userGrants.push({
      subject: userSubject(`person-${u}@corp.com`),
      roleId: roles[(role + 1) % point.roles]!.roleId,
    });
  }
  // Every role held by someone else too, so the indexes are as large as the role count.
  for (let r = 0; r < point.roles; r++)
    userGrants.push({ subject: `user:other-${r}`, roleId: roles[r]!.roleId });
  const groupGrants: Grant[] = Array.from({ length: pool }, (_, g) => ({
    subject: groupSubject(`g${g}`),
    roleId: roles[g % point.roles]!.roleId,
  }));
  return { roles, userGrants, groupGrants };
}

/** The best of three rounds of `ms` each: the machine is shared, and the least disturbed round is the cost. */
export async function timeLoop(ms: number, work: (i: number) => unknown): Promise<number> {
  let best = Infinity;
  for (let round = 0; round < 3; round++) best = Math.min(best, await timeRound(ms, work));
  return best;
}

// Runs `work(i)` for i = 0, 1, … until `ms` have passed; nanoseconds per call.
async function timeRound(ms: number, work: (i: number) => unknown): Promise<number> {
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(ms) * 1_000_000n;
  let count = 0;
  let now = started;
  while (now < deadline) {
    for (let j = 0; j < 100; j++) await work(count++);
    now = process.hrtime.bigint();
  }
  return Math.round(Number(now - started) / count);
}
