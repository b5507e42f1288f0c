import { bearerToken } from "./bearer.js";
import { COMBINED_ROLE_UNAVAILABLE, type CombinedRoles } from "./combined-roles.js";
import { candidateRoles, decide, type Decision, type DecisionReason } from "./decision.js";
import { InvalidArgumentError, UnauthenticatedError, isCoreError } from "./errors.js";
import type { GroupPinCheck, GroupProvider, TokenVerifier, VerifiedToken } from "./identity.js";
import type { Operation } from "./operation.js";
import type { OperationCache } from "./operation-cache.js";
import type { CombineOptions } from "./role-cover.js";
import { groupSubject, userSubject } from "./subjects.js";
import type { Snapshot } from "./snapshot.js";
import { requireIdList } from "./validation.js";

/** One GraphQL request as Hasura forwards it. */
export interface GraphQLRequest {
  readonly query: string;
  readonly operationName: string | undefined;
}

/** What Hasura asks about: the client's headers (names lower-cased) and its request, batch, or null. */
export interface AuthorizeInput {
  readonly headers: ReadonlyMap<string, string>;
  readonly request: GraphQLRequest | readonly GraphQLRequest[] | null;
}

/** The answer and everything the audit log records about it. */
export interface AuthorizationResult {
  /** allow → 200, deny → 401, fail → the status of `error`. */
  readonly outcome: "allow" | "deny" | "fail";
  readonly role: string | undefined;
  readonly user: string | undefined;
  readonly groupCount: number | undefined;
  readonly operationType: string | undefined;
  readonly operationName: string | undefined;
  readonly rootFields: readonly string[];
  /** A stable snake_case code. */
  readonly reason: string;
  /**
   * Set only when a websocket's connection_init is allowed: when its session must end, in seconds since the epoch
   * (the token's expiry, or the session bound if sooner).
   */
  readonly sessionEndsAt?: number;
  /** Set when the role is a combined role (or would have been, when it was unavailable): its parents, sorted. */
  readonly parents?: readonly string[];
  /** Set when outcome is "fail". */
  readonly error?: unknown;
}

/** Who to explain a decision for: a token, or a user and groups given directly. */
export interface ExplainInput {
  readonly token?: string | undefined;
  readonly user?: string | undefined;
  readonly groups?: readonly string[] | undefined;
  readonly query: string;
  readonly operationName?: string | undefined;
  readonly requestedRole?: string | undefined;
}

/** A decision with the facts behind it, for operators asking why. */
export interface Explanation {
  readonly allowed: boolean;
  readonly role: string | undefined;
  readonly reason: string;
  readonly user: string;
  readonly groups: readonly string[];
  readonly rootFields: readonly string[];
  readonly heldRoles: readonly string[];
  readonly candidateRoles: readonly string[];
  /** Only when a combined role is decided on: the smallest covering set of held roles, sorted. */
  readonly coveringRoles?: readonly string[];
  /** Only when a combined role is decided on: its name (also in `role`). */
  readonly combinedRole?: string;
  /** Reserved roles (Hasura's admin, RESERVED_ROLE_IDS) the subjects hold in the store: never answered. */
  readonly reservedRoles: readonly string[];
  /** For a token where group names are pinned: per group of the caller, whether its name's pin matched. */
  readonly groupPins: readonly GroupPinCheck[];
}

/** What the authorizer is built from. */
export interface AuthorizerDeps {
  readonly verifier: TokenVerifier;
  readonly groups: GroupProvider;
  /** The snapshot to decide with; throws UnavailableError when too stale. */
  readonly snapshot: () => Snapshot;
  readonly operations: OperationCache;
  /** The raw user name from verified claims; throws UnauthenticatedError when missing. */
  readonly userName: (claims: Readonly<Record<string, unknown>>) => string;
  /** Header names carrying the bearer token, tried in order. */
  readonly tokenHeaders: readonly string[];
  readonly allowIntrospection: boolean;
  /** Most operations in one batch. */
  readonly maxBatch: number;
  /** Longest a websocket session (and the role it holds) may last, in seconds; default 600. */
  readonly websocketSessionMaxS?: number;
  /** The time, in milliseconds since the epoch; Date.now by default (tests inject theirs). */
  readonly now?: () => number;
  /** COMBINED_ROLES=hasura: how roles are combined, and where combined roles are kept. */
  readonly combined?: { readonly options: CombineOptions; readonly roles: CombinedRoles } | undefined;
}

/** A verified caller's principal, and its role set as of one snapshot version. */
interface CachedPrincipal {
  /** The group provider's answer the subjects were made from. */
  readonly rawGroups: readonly string[];
  readonly user: string;
  readonly groups: readonly string[];
  snapshot: Snapshot | undefined;
  version: number;
  heldRoles: ReadonlySet<string>;
  /** Whether the subjects hold a reserved role in the store (only changes the reason of a denial). */
  holdsReserved: boolean;
  /** Its latest decisions on single operations, valid for the role set above (emptied with it). */
  decisions: RememberedDecision[];
}

/**
 * One decision of a principal on a single operation: a pure function of its role set, the snapshot, the request's
 * document and operation name, and the role asked for. Found again by comparing the text, cheaper than hashing it.
 */
interface RememberedDecision {
  readonly query: string;
  readonly operationName: string | undefined;
  readonly requestedRole: string | undefined;
  readonly operations: readonly Operation[];
  readonly decision: Decision;
}

// A caller repeats a few operations; more would only lengthen the scan. Documents of at most 2 KB, so a principal
// holds at most 16 KB of them: the token cache's bound on principals bounds them all, as it bounds the tokens.
const REMEMBERED_DECISIONS = 8;
const REMEMBERED_QUERY_CHARS = 2048;

const ROLE_HEADER = "x-hasura-role";

/** Longest a websocket session lasts unless configured otherwise, in seconds. */
export const DEFAULT_WEBSOCKET_SESSION_MAX_S = 600;

/** Answers Hasura's webhook: who is calling, and which role may run what it sent. */
export class Authorizer {
  private readonly tokenHeaders: readonly string[];
  /**
   * Principals by verified token. The token cache hands back the same VerifiedToken while a token is cached, so
   * this is bounded by it; an entry is reused while the group provider returns the very same list (claims groups:
   * always), its role set while the snapshot is unchanged, so a warm caller with many groups costs a few lookups.
   */
  private readonly principals = new WeakMap<VerifiedToken, CachedPrincipal>();

  constructor(private readonly deps: AuthorizerDeps) {
    this.tokenHeaders = deps.tokenHeaders.map((name) => name.toLowerCase());
  }

  /** Decides one webhook call. Never throws: failures come back as outcome "fail" with the error. */
  async authorize(input: AuthorizeInput): Promise<AuthorizationResult> {
    let user: string | undefined;
    let groupCount: number | undefined;
    let operations: readonly Operation[] | null = null;
    try {
      const token = this.tokenFrom(input.headers);
      const verified = await this.deps.verifier.verify(token);
      const cached = this.principals.get(verified);
      user = cached?.user ?? userSubject(this.deps.userName(verified.claims));
      // Claims groups are the claims' own: a cached caller's are reused; any other provider may have changed them.
      const rawGroups =
        cached && this.deps.groups.claimsOnly
          ? cached.rawGroups
          : await this.deps.groups.groupsOf(verified.claims);
      const principal =
        cached && cached.rawGroups === rawGroups ? cached : this.remember(verified, user, rawGroups);
      groupCount = principal.groups.length;
      const requestedRole = input.headers.get(ROLE_HEADER);
      const memo = principal.decisions;
      // A request decided before was analysed then: its operation is known, and valid or not as it was.
      const known = recall(memo, input.request, requestedRole);
      operations = known?.operations ?? this.analyze(input.request);
      const snapshot = this.deps.snapshot();
      const roles = rolesOf(principal, snapshot);
      // The memo is replaced whenever the role set is recomputed: an entry of the previous one is not used.
      let decision =
        known !== undefined && roles.decisions === memo
          ? known.decision
          : this.decision(roles, input.request, operations, requestedRole, snapshot);
      if (decision.parents !== undefined) decision = await this.ensureCombined(decision);
      const result = this.result(decision.allowed ? "allow" : "deny", decision, user, groupCount, operations);
      if (!decision.allowed || input.request !== null) return result;
      return { ...result, sessionEndsAt: this.sessionEnd(verified) };
    } catch (error) {
      const base = { role: undefined, user, groupCount, ...describe(operations), rootFields: [] };
      if (error instanceof UnauthenticatedError) return { ...base, outcome: "deny", reason: error.reason };
      return { ...base, outcome: "fail", reason: isCoreError(error) ? error.code : "internal", error };
    }
  }

  /**
   * The decision the webhook would make, with held and candidate roles. Writes nothing, except the pin that a
   * granted group name without one gets on first use, as on the webhook's first call.
   */
  async explain(input: ExplainInput): Promise<Explanation> {
    const { user, groups, groupPins } = await this.explained(input);
    const operation = this.deps.operations.analyze(input.query, input.operationName || undefined);
    const snapshot = this.deps.snapshot();
    const heldRoles = snapshot.rolesOf(user, groups);
    const reservedRoles = [...snapshot.reservedRolesOf(user, groups)].sort();
    const decision = decide(
      {
        heldRoles,
        operations: [operation],
        requestedRole: input.requestedRole || undefined,
        allowIntrospection: this.deps.allowIntrospection,
        holdsReservedRole: reservedRoles.length > 0,
        combine: this.deps.combined?.options,
      },
      snapshot,
    );
    return {
      allowed: decision.allowed,
      role: decision.role,
      reason: decision.reason,
      user,
      groups,
      rootFields: decision.rootFields,
      heldRoles: [...heldRoles].sort(),
      candidateRoles: candidateRoles(decision.rootFields, snapshot),
      ...(decision.parents && decision.role
        ? { coveringRoles: decision.parents, combinedRole: decision.role }
        : {}),
      reservedRoles,
      groupPins,
    };
  }

  // The decision rules' answer, remembered for the principal's role set when the request is a single operation.
  private decision(
    principal: CachedPrincipal,
    request: AuthorizeInput["request"],
    operations: readonly Operation[] | null,
    requestedRole: string | undefined,
    snapshot: Snapshot,
  ): Decision {
    const decision = decide(
      {
        heldRoles: principal.heldRoles,
        operations,
        requestedRole,
        allowIntrospection: this.deps.allowIntrospection,
        holdsReservedRole: principal.holdsReserved,
        combine: this.deps.combined?.options,
      },
      snapshot,
    );
    const single = singleRequest(request);
    if (single && operations !== null && single.query.length <= REMEMBERED_QUERY_CHARS) {
      const memo = principal.decisions;
      if (memo.length === REMEMBERED_DECISIONS) memo.shift();
      memo.push({
        query: single.query,
        operationName: single.operationName,
        requestedRole,
        operations,
        decision,
      });
    }
    return decision;
  }

  // A combined role is answered only once it exists in the engine: the warm path is one lookup; otherwise it is
  // created (or the request denied), never answered before the engine knows it.
  private async ensureCombined(decision: Decision): Promise<Decision> {
    const { role, parents } = decision;
    const roles = this.deps.combined?.roles;
    if (role === undefined || parents === undefined || roles === undefined || roles.exists(role))
      return decision;
    try {
      await roles.ensure(role, parents);
      return decision;
    } catch {
      // The adapter logs and counts the failure; the caller only learns the role was unavailable.
      const reason = COMBINED_ROLE_UNAVAILABLE;
      return { allowed: false, role: undefined, reason, rootFields: decision.rootFields, parents };
    }
  }

  // Who the explanation is for: from a token as the webhook resolves it (a group name without a pin may then be
  // pinned, as on the webhook's first call), or the user and groups as given.
  private async explained(
    input: ExplainInput,
  ): Promise<{ user: string; groups: string[]; groupPins: readonly GroupPinCheck[] }> {
    if (input.token !== undefined && input.token !== "") {
      const verified = await this.deps.verifier.verify(input.token);
      const user = userSubject(this.deps.userName(verified.claims));
      const groups = (await this.deps.groups.groupsOf(verified.claims)).map(groupSubject);
      const groupPins = (await this.deps.groups.pinChecks?.(verified.claims)) ?? [];
      return { user, groups, groupPins };
    }
    if (!input.user) throw new InvalidArgumentError("user", "give a token, or a user subject (user:…)");
    return {
      user: requireIdList("user", [input.user], 1, "user:")[0] as string,
      groups: requireIdList("groups", input.groups ?? [], 10_000, "group:"),
      groupPins: [],
    };
  }

  // Hasura keeps a websocket's session until the answer's expiry: the token's own, or sooner so that a revoked
  // grant stops a live subscription within the bound.
  private sessionEnd(verified: VerifiedToken): number {
    const nowS = Math.floor((this.deps.now ?? Date.now)() / 1000);
    return Math.min(
      Math.floor(verified.expiresAt),
      nowS + (this.deps.websocketSessionMaxS ?? DEFAULT_WEBSOCKET_SESSION_MAX_S),
    );
  }

  private remember(verified: VerifiedToken, user: string, rawGroups: readonly string[]): CachedPrincipal {
    const principal: CachedPrincipal = {
      rawGroups,
      user,
      groups: rawGroups.map(groupSubject),
      snapshot: undefined,
      version: -1,
      heldRoles: new Set(),
      holdsReserved: false,
      decisions: [],
    };
    this.principals.set(verified, principal);
    return principal;
  }

  private tokenFrom(headers: ReadonlyMap<string, string>): string {
    for (const name of this.tokenHeaders) {
      const value = headers.get(name);
      if (value === undefined) continue;
      const token = bearerToken(value);
      if (token === undefined) {
        throw new UnauthenticatedError(`header ${name} is not a bearer token`, "token_bad_scheme");
      }
      return token;
    }
    throw new UnauthenticatedError("no bearer token in the request headers", "token_missing");
  }

  private analyze(request: AuthorizeInput["request"]): readonly Operation[] | null {
    if (request === null) return null;
    const requests = Array.isArray(request)
      ? (request as readonly GraphQLRequest[])
      : [request as GraphQLRequest];
    if (requests.length > this.deps.maxBatch) {
      throw new InvalidArgumentError("request", `a batch holds at most ${this.deps.maxBatch} operations`);
    }
    return requests.map((item) => this.deps.operations.analyze(item.query, item.operationName));
  }

  private result(
    outcome: "allow" | "deny",
    decision: Decision,
    user: string,
    groupCount: number,
    operations: readonly Operation[] | null,
  ): AuthorizationResult {
    const reason: DecisionReason = decision.reason;
    const { operationType, operationName } = describe(operations);
    // Spelled out rather than spread: this object is built on every webhook call.
    const result = {
      outcome,
      role: decision.role,
      user,
      groupCount,
      operationType,
      operationName,
      rootFields: decision.rootFields,
      reason,
    };
    return decision.parents === undefined ? result : { ...result, parents: decision.parents };
  }
}

// The request when it is one operation (not a batch, not a websocket's connection_init).
function singleRequest(request: AuthorizeInput["request"]): GraphQLRequest | undefined {
  return request === null || Array.isArray(request) ? undefined : (request as GraphQLRequest);
}

// The decision remembered for this request and role asked for, if any.
function recall(
  memo: readonly RememberedDecision[],
  request: AuthorizeInput["request"],
  requestedRole: string | undefined,
): RememberedDecision | undefined {
  const single = singleRequest(request);
  if (single === undefined) return undefined;
  for (const entry of memo) {
    if (
      entry.query === single.query &&
      entry.operationName === single.operationName &&
      entry.requestedRole === requestedRole
    )
      return entry;
  }
  return undefined;
}

// The caller's role set, recomputed only when the snapshot was replaced or changed since it was last computed.
function rolesOf(principal: CachedPrincipal, snapshot: Snapshot): CachedPrincipal {
  if (principal.snapshot !== snapshot || principal.version !== snapshot.version) {
    principal.heldRoles = snapshot.rolesOf(principal.user, principal.groups);
    principal.holdsReserved = snapshot.reservedRolesOf(principal.user, principal.groups).size > 0;
    principal.snapshot = snapshot;
    principal.version = snapshot.version;
    principal.decisions = [];
  }
  return principal;
}

function describe(operations: readonly Operation[] | null): {
  operationType: string | undefined;
  operationName: string | undefined;
} {
  if (operations === null) return { operationType: undefined, operationName: undefined };
  if (operations.length === 1)
    return { operationType: operations[0]?.type, operationName: operations[0]?.name };
  return { operationType: "batch", operationName: undefined };
}
