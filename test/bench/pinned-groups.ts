import { Authorizer, type AuthorizeInput } from "../../src/core/authorizer.js";
import { decide } from "../../src/core/decision.js";
import { GroupPinning } from "../../src/core/group-pinning.js";
import type { DirectoryGroup, GroupProvider } from "../../src/core/identity.js";
import { analyzeOperation } from "../../src/core/operation.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { pinnedGroupProvider } from "../../src/core/pinned-groups.js";
import { GROUP_PREFIX, groupSubject, userSubject } from "../../src/core/subjects.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { pino } from "pino";
import { round } from "./load.js";
import { withLocalIdentity } from "./local-identity.js";
import { buildCallers, buildData, timeLoop, type Caller, type Point } from "./scaling.js";
import { signTokens } from "./tokens.js";

const GROUP_COUNTS = [1, 100, 1_000];

/** The added cost of pinned group names (Entra display names bound to object ids), warm and cold. */
export interface PinnedGroupFigures {
  /** `authorize` for a warm token, groups from a warm provider cache: by name as they come, or through pins. */
  readonly nsPerWarmDecision: Record<string, number>;
  /** A caller's first decision without caches: (pins →) role set of user and groups, then `decide`. */
  readonly nsPerColdRoleSetAndDecide: Record<string, number>;
  /** Pinned minus unpinned, per group count. */
  readonly addedNs: { readonly warm: Record<string, number>; readonly cold: Record<string, number> };
  /** Directory lookups and store writes the pinned runs made after their first decisions: must be 0. */
  readonly pinCallsWhileTimed: number;
}

/**
 * In process, as test/bench/scaling.ts: 200 callers, 10 roles, 1 to 1,000 groups per caller from a warm provider
 * cache (as Microsoft Graph's), every granted name pinned. Each figure is the best of three rounds of `ms`.
 */
export async function measurePinnedGroups(ms: number): Promise<PinnedGroupFigures> {
  return withLocalIdentity({}, async (issuer, identity) => {
    const warm: Record<string, number> = {};
    const cold: Record<string, number> = {};
    let pinCalls = 0;
    // The first point runs twice: its first pass only warms the JIT and is overwritten.
    for (const groups of [1, ...GROUP_COUNTS]) {
      const point: Point = { roles: 10, groups, provider: true };
      const run = setUp(point, buildCallers(point), () => pinCalls++);
      const tokens = signTokens(
        issuer,
        run.callers.map((c) => ({ unique_name: c.name, groups: [] })),
      );
      const inputs: AuthorizeInput[] = run.callers.map((caller, i) => ({
        headers: new Map([["authorization", `Bearer ${tokens[i]}`]]),
        request: { query: caller.query, operationName: undefined },
      }));
      for (const [kind, provider] of [
        ["names", run.byName],
        ["pinned", run.pinned],
      ] as const) {
        const authorizer = new Authorizer({
          ...identity,
          groups: provider,
          snapshot: () => run.snapshot,
          operations: new OperationCache({ maxChars: 16 * 1024 * 1024 }),
          tokenHeaders: ["Authorization"],
          allowIntrospection: false,
          maxBatch: 50,
        });
        for (const input of inputs) {
          const result = await authorizer.authorize(input);
          if (result.outcome !== "allow") throw new Error(`${kind}: expected allow, got ${result.reason}`);
        }
        const before = pinCalls;
        warm[`groups=${groups},${kind}`] = await timeLoop(ms, (i) =>
          authorizer.authorize(inputs[i % inputs.length] as AuthorizeInput),
        );
        cold[`groups=${groups},${kind}`] = await timeLoop(ms, (i) => run.coldDecision(kind, i));
        if (pinCalls !== before) throw new Error(`${kind}: the timed runs called the directory or the store`);
      }
    }
    const added = (figures: Record<string, number>) =>
      Object.fromEntries(
        GROUP_COUNTS.map((g) => [
          `groups=${g}`,
          round(figures[`groups=${g},pinned`]! - figures[`groups=${g},names`]!),
        ]),
      );
    return {
      nsPerWarmDecision: warm,
      nsPerColdRoleSetAndDecide: cold,
      addedNs: { warm: added(warm), cold: added(cold) },
      pinCallsWhileTimed: pinCalls,
    };
  });
}

// The snapshot with every pool group's name pinned, each caller's directory answer (frozen, as the Graph cache
// keeps it), a provider by name and a pinned one, and a cold decision of either kind.
function setUp(point: Point, callers: readonly Caller[], onPinCall: () => void) {
  const data = buildData(point);
  const idOf = (name: string) => `id-${name}`;
  const groupPins = data.groupGrants.map((grant) => ({
    group: grant.subject,
    objectId: idOf(grant.subject.slice(GROUP_PREFIX.length)),
  }));
  const snapshot = Snapshot.from({ ...data, groupPins });
  const listed = new Map(
    callers.map((c) => [
      c.name,
      Object.freeze(c.groups.map((name): DirectoryGroup => ({ id: idOf(name), name }))),
    ]),
  );
  const named = new Map(callers.map((c) => [c.name, Object.freeze([...c.groups])]));
  const pinning = new GroupPinning({
    directory: {
      holdersOf: async () => {
        onPinCall();
        return [];
      },
    },
    pinGroups: async (pins) => {
      onPinCall();
      return [...pins];
    },
    snapshot: () => snapshot,
    write: (task) => task(snapshot),
    logger: pino({ level: "silent" }),
  });
  const byName: GroupProvider = { groupsOf: async (claims) => named.get(String(claims.unique_name)) ?? [] };
  const pinned = pinnedGroupProvider(
    { directoryGroupsOf: async (claims) => listed.get(String(claims.unique_name)) ?? [] },
    pinning,
  );
  const prepared = callers.map((caller) => ({
    user: userSubject(caller.name),
    names: named.get(caller.name)!,
    listed: listed.get(caller.name)!,
    operations: [analyzeOperation(caller.query, undefined)],
  }));
  async function coldDecision(kind: "names" | "pinned", i: number): Promise<void> {
    const p = prepared[i % prepared.length]!;
    const names = kind === "names" ? p.names : (await pinning.namesOf(p.listed)).names;
    const heldRoles = snapshot.rolesOf(p.user, names.map(groupSubject));
    decide(
      { heldRoles, operations: p.operations, requestedRole: undefined, allowIntrospection: false },
      snapshot,
    );
  }
  return { callers, snapshot, byName, pinned, coldDecision };
}
