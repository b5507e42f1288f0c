import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { SnapshotStats } from "../core/snapshot-sync-options.js";
import { watchSyncActivity } from "./sync-activity-metrics.js";

/** Hits and misses of one cache since start, and its entries now. */
export interface CacheCounts {
  readonly hits: number;
  readonly misses: number;
  readonly size: number;
}

/** The snapshot's state as the metrics read it at scrape time: SnapshotSync's stats, where `activity` may lack. */
export type SnapshotGauges = Omit<SnapshotStats, "activity"> & Partial<Pick<SnapshotStats, "activity">>;

/** Values read at each scrape rather than counted as they happen. */
export interface ScrapeSources {
  readonly ready?: () => boolean;
  readonly snapshot?: () => SnapshotGauges;
  /** Caches by name (`token`, `group`, `operation`). */
  readonly caches?: Readonly<Record<string, () => CacheCounts>>;
  /** Webhook requests being answered now. */
  readonly inFlight?: () => number;
  /** grpc.health.v1 Watch calls held open now. */
  readonly healthWatchers?: () => number;
}

const PREFIX = "rolemapper_";
// Decisions are sub-millisecond when cached and up to seconds when Graph is slow.
const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CALL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Webhook decisions by outcome and reason, their latency by outcome, and the combined-role ones by outcome. */
export interface DecisionInstruments {
  readonly decisions: Counter<"outcome" | "reason">;
  readonly decisionSeconds: Histogram<"outcome">;
  readonly combinedDecisions: Counter<"outcome">;
}

/**
 * The sidecar's Prometheus metrics in a registry of their own (never the global one), so that several sidecars
 * in one process — tests — each count only their own traffic.
 */
export class SidecarMetrics {
  /** The registry /metrics serves. */
  readonly registry = new Registry();
  /** The webhook's decision instruments: the decision log binds their label sets once (it runs per request). */
  readonly decisionInstruments: DecisionInstruments;
  private readonly storeSeconds: Histogram<"method">;
  private readonly storeErrors: Counter<"method" | "code">;
  private readonly grpcCalls: Counter<"method" | "code">;
  private readonly grpcSeconds: Histogram<"method">;
  private readonly restCalls: Counter<"route" | "status">;
  private readonly restSeconds: Histogram<"route">;
  private readonly identityCalls: Counter<"target" | "status">;
  private readonly identityThrottles: Counter<"target">;
  private readonly writes: Counter<"transport" | "operation" | "outcome">;
  private readonly pinsFirstUse: Counter<"outcome">;
  private readonly shadowComparisons: Counter<"result">;
  private readonly shadowOverLimit: Counter;
  private readonly combinedRoleEvents: Counter<"event">;

  constructor(options: { readonly processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: PREFIX });
    // Registered in this order, which is the order /metrics lists them in.
    const registers = [this.registry];
    const webhook = webhookMetrics(registers);
    ({ storeSeconds: this.storeSeconds, storeErrors: this.storeErrors } = storeMetrics(registers));
    ({
      grpcCalls: this.grpcCalls,
      grpcSeconds: this.grpcSeconds,
      restCalls: this.restCalls,
      restSeconds: this.restSeconds,
    } = apiMetrics(registers));
    ({
      identityCalls: this.identityCalls,
      identityThrottles: this.identityThrottles,
      pinsFirstUse: this.pinsFirstUse,
    } = identityMetrics(registers));
    ({ shadowComparisons: this.shadowComparisons, shadowOverLimit: this.shadowOverLimit } =
      shadowMetrics(registers));
    const combined = combinedRoleMetrics(registers);
    this.combinedRoleEvents = combined.combinedRoleEvents;
    this.decisionInstruments = { ...webhook, combinedDecisions: combined.combinedDecisions };
    ({ writes: this.writes } = writeMetrics(registers));
  }

  /** Counts one request answered 500 past SHADOW_MAX_IN_FLIGHT with SHADOW_ANSWER=shadow. */
  observeShadowOverLimit(): void {
    this.shadowOverLimit.inc();
  }

  /** Counts one shadow comparison by its result. */
  observeShadowComparison(result: "agree" | "disagree" | "skipped" | "error"): void {
    this.shadowComparisons.inc({ result });
  }

  /** Counts one combined role created or dropped, one failed metadata call about them, or a failed ledger step. */
  observeCombinedRole(event: "created" | "dropped" | "failed" | "ledger_failed"): void {
    this.combinedRoleEvents.inc({ event });
  }

  /** Counts one store call; `errorCode` is set when it failed. */
  observeStoreCall(method: string, seconds: number, errorCode?: string): void {
    this.storeSeconds.observe({ method }, seconds);
    if (errorCode !== undefined) this.storeErrors.inc({ method, code: errorCode });
  }

  /** Counts one RoleMapping call: by RPC and status code (gRPC), or by route and HTTP status (REST). */
  observeApiCall(transport: "grpc" | "rest", route: string, status: string, seconds: number): void {
    if (transport === "grpc") {
      this.grpcCalls.inc({ method: route, code: status });
      this.grpcSeconds.observe({ method: route }, seconds);
    } else {
      this.restCalls.inc({ route, status });
      this.restSeconds.observe({ route }, seconds);
    }
  }

  /** Counts one granted group name pinned on first use, or found ambiguous or absent. */
  observeGroupPinFirstUse(outcome: string): void {
    this.pinsFirstUse.inc({ outcome });
  }

  /** Counts one HTTP attempt to Graph or the token endpoint; `status` undefined means no response. */
  observeIdentityCall(target: string, status: number | undefined, throttled: boolean): void {
    this.identityCalls.inc({ target, status: status === undefined ? "error" : String(status) });
    if (throttled) this.identityThrottles.inc({ target });
  }

  /** Counts one write through the RoleMapping API. */
  observeWrite(transport: string, operation: string, outcome: string): void {
    this.writes.inc({ transport, operation, outcome });
  }

  /** Registers the values read at scrape time; call once. */
  watch(sources: ScrapeSources): void {
    const registers = [this.registry];
    const { ready, snapshot, caches, inFlight, healthWatchers } = sources;
    if (ready) {
      new Gauge({
        name: `${PREFIX}ready`,
        help: "1 while the sidecar is ready to decide (snapshot loaded and fresh, not stopping)",
        registers,
        collect() {
          this.set(ready() ? 1 : 0);
        },
      });
    }
    if (inFlight) {
      new Gauge({
        name: `${PREFIX}webhook_in_flight`,
        help: "Webhook requests received and not yet answered",
        registers,
        collect() {
          this.set(inFlight());
        },
      });
    }
    if (healthWatchers) {
      new Gauge({
        name: `${PREFIX}grpc_health_watchers`,
        help: "grpc.health.v1 Watch calls held open (at most GRPC_MAX_WATCHERS)",
        registers,
        collect() {
          this.set(healthWatchers());
        },
      });
    }
    if (snapshot) this.watchSnapshot(snapshot);
    if (caches) this.watchCaches(caches);
  }

  /** The text exposition of every metric. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private watchSnapshot(read: () => SnapshotGauges): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, value: (state: SnapshotGauges) => number) =>
      new Gauge({
        name: `${PREFIX}${name}`,
        help,
        registers,
        collect() {
          const state = read();
          // No sample before the first load: an age of "since 1970" would only trip alerts.
          if (state.loaded) this.set(value(state));
          else this.reset();
        },
      });
    gauge("snapshot_age_seconds", "Seconds since the snapshot was last fully loaded", (s) => s.ageMs / 1000);
    gauge(
      "snapshot_store_contact_age_seconds",
      "Seconds since the store last answered (decisions fail closed past SNAPSHOT_MAX_STALENESS_S)",
      (s) => s.staleForMs / 1000,
    );
    gauge("snapshot_roles", "Roles in the snapshot", (s) => s.roles);
    gauge("snapshot_grants", "User and group grants in the snapshot", (s) => s.grants);
    // A gauge, not a counter: every reload reads the same rows again; this is how many the store holds now.
    gauge(
      "snapshot_reserved_rows_ignored",
      "Role and grant rows of reserved role ids (admin, RESERVED_ROLE_IDS) the last snapshot load ignored",
      (s) => s.reservedRowsIgnored,
    );
    const activity = read().activity;
    if (activity) watchSyncActivity(this.registry, PREFIX, () => read().activity ?? activity);
  }

  private watchCaches(caches: Readonly<Record<string, () => CacheCounts>>): void {
    const registers = [this.registry];
    const entries = Object.entries(caches);
    new Counter({
      name: `${PREFIX}cache_requests_total`,
      help: "Cache lookups by cache (token, group, operation) and result (hit, miss)",
      labelNames: ["cache", "result"],
      registers,
      collect() {
        // The caches keep their own running totals; the counter mirrors them at each scrape.
        this.reset();
        for (const [cache, read] of entries) {
          const counts = read();
          this.inc({ cache, result: "hit" }, counts.hits);
          this.inc({ cache, result: "miss" }, counts.misses);
        }
      },
    });
    new Gauge({
      name: `${PREFIX}cache_entries`,
      help: "Entries held by each cache",
      labelNames: ["cache"],
      registers,
      collect() {
        for (const [cache, read] of entries) this.set({ cache }, read().size);
      },
    });
  }
}

/** The webhook's decisions and their latency. */
function webhookMetrics(registers: Registry[]) {
  return {
    decisions: new Counter({
      name: `${PREFIX}decisions_total`,
      help: "Webhook decisions by outcome (allow, deny, fail) and reason code",
      labelNames: ["outcome", "reason"],
      registers,
    }),
    decisionSeconds: new Histogram({
      name: `${PREFIX}decision_duration_seconds`,
      help: "Time to answer a webhook call, body parsed to answer decided",
      labelNames: ["outcome"],
      buckets: DECISION_BUCKETS,
      registers,
    }),
  };
}

/** Calls to the role mapping store. */
function storeMetrics(registers: Registry[]) {
  return {
    storeSeconds: new Histogram({
      name: `${PREFIX}store_call_duration_seconds`,
      help: "Role mapping store calls by method, failures included",
      labelNames: ["method"],
      buckets: CALL_BUCKETS,
      registers,
    }),
    storeErrors: new Counter({
      name: `${PREFIX}store_call_errors_total`,
      help: "Failed role mapping store calls by method and error code",
      labelNames: ["method", "code"],
      registers,
    }),
  };
}

/** Calls to the RoleMapping API: by RPC and status code over gRPC, by route and HTTP status over REST. */
function apiMetrics(registers: Registry[]) {
  return {
    grpcCalls: new Counter({
      name: `${PREFIX}grpc_calls_total`,
      help: "RoleMapping gRPC calls by method and status code",
      labelNames: ["method", "code"],
      registers,
    }),
    grpcSeconds: new Histogram({
      name: `${PREFIX}grpc_call_duration_seconds`,
      help: "RoleMapping gRPC call latency by method",
      labelNames: ["method"],
      buckets: CALL_BUCKETS,
      registers,
    }),
    restCalls: new Counter({
      name: `${PREFIX}rest_calls_total`,
      help: "RoleMapping REST calls by route (method and path template) and HTTP status",
      labelNames: ["route", "status"],
      registers,
    }),
    restSeconds: new Histogram({
      name: `${PREFIX}rest_call_duration_seconds`,
      help: "RoleMapping REST call latency by route",
      labelNames: ["route"],
      buckets: CALL_BUCKETS,
      registers,
    }),
  };
}

/** Calls to Microsoft Graph and its token endpoint, and group names pinned at first use. */
function identityMetrics(registers: Registry[]) {
  return {
    identityCalls: new Counter({
      name: `${PREFIX}graph_requests_total`,
      help: "HTTP attempts to Microsoft Graph (target=graph) and the token endpoint (target=azure_token) by status",
      labelNames: ["target", "status"],
      registers,
    }),
    identityThrottles: new Counter({
      name: `${PREFIX}graph_throttled_total`,
      help: "Answers 429 or 503 from Microsoft Graph or the token endpoint",
      labelNames: ["target"],
      registers,
    }),
    pinsFirstUse: new Counter({
      name: `${PREFIX}group_pins_first_use_total`,
      help:
        "Granted group names without a pin met at decision time: pinned, or left matching nobody because several " +
        "Entra groups (ambiguous) or none (not_found) hold them, counted once per name until it resolves",
      labelNames: ["outcome"],
      registers,
    }),
  };
}

/** Shadow mode's comparisons and the requests it refused. */
function shadowMetrics(registers: Registry[]) {
  return {
    shadowComparisons: new Counter({
      name: `${PREFIX}shadow_comparisons_total`,
      help:
        "Shadow mode: webhook answers compared with the previous service's (agree, disagree), not compared " +
        "because SHADOW_MAX_IN_FLIGHT calls were in flight (skipped), or whose call failed (error)",
      labelNames: ["result"],
      registers,
    }),
    shadowOverLimit: new Counter({
      name: `${PREFIX}shadow_over_limit_total`,
      help:
        "Shadow mode with SHADOW_ANSWER=shadow: requests answered 500 without asking the previous webhook, " +
        "SHADOW_MAX_IN_FLIGHT calls to it being in flight",
      registers,
    }),
  };
}

/** Combined roles chosen, and kept in Hasura's metadata. */
function combinedRoleMetrics(registers: Registry[]) {
  return {
    combinedDecisions: new Counter({
      name: `${PREFIX}combined_decisions_total`,
      help: "Webhook decisions that chose a combined role (COMBINED_ROLES=hasura), allowed or denied because unavailable",
      labelNames: ["outcome"],
      registers,
    }),
    combinedRoleEvents: new Counter({
      name: `${PREFIX}combined_roles_total`,
      help: "Combined roles created or dropped in Hasura's metadata, failed metadata calls, and failed steps of their ledger (event)",
      labelNames: ["event"],
      registers,
    }),
  };
}

/** Writes through the RoleMapping API. */
function writeMetrics(registers: Registry[]) {
  return {
    writes: new Counter({
      name: `${PREFIX}mapping_writes_total`,
      help: "Writes through the RoleMapping API by transport, operation and outcome",
      labelNames: ["transport", "operation", "outcome"],
      registers,
    }),
  };
}
