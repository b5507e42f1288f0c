import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { UnauthenticatedError } from "../../src/core/errors.js";
import { DeadlineExceededError, UnavailableError } from "../../src/core/errors.js";
import { createAzureGraph } from "../../src/identity/graph-groups.js";
import type { AzureGroupsOptions } from "../../src/identity/graph-groups.js";
import { entraV1, entraV2 } from "../support/fixtures/entra/index.js";
import { GraphStandIn, directoryRole, group } from "../support/graph-stand-in.js";
import { RecordingLogger } from "../support/recording-logger.js";

const OID = "8f3d2b1a-4c5e-4f6a-9b8c-7d6e5f4a3b2c";
let graph: GraphStandIn;
let clock: number;
let sleeps: number[];
let logger: RecordingLogger;

beforeEach(async () => {
  graph = await GraphStandIn.start();
  clock = 1_800_000_000_000;
  sleeps = [];
  logger = new RecordingLogger();
});
afterEach(() => graph.close());

const warnings = () => logger.entries.filter((entry) => entry.level === "warn").map((entry) => entry.obj);

function provider(extra: Partial<AzureGroupsOptions> = {}) {
  return createAzureGraph({
    ...graph.connection,
    logger,
    retry: {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
    },
    ...extra,
  }).groups;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (e: unknown) => e,
  );
}

describe("Microsoft Graph group provider", () => {
  it("lists every page of transitive memberships", async () => {
    graph.pageSize = 2;
    graph.users.set(
      OID,
      ["a", "b", "c", "d", "e", "f"].map((n) => group(n)),
    );
    const groups = await provider().groupsOf({ oid: OID });
    expect([...groups].sort()).toEqual(["a", "b", "c", "d", "e", "f"]);
    expect(graph.graphRequests).toBe(3);
    expect(graph.lastScope).toBe("https://graph.microsoft.com/.default");
  });

  it("keeps groups only and skips groups without a name, with one warning", async () => {
    graph.pageSize = 2;
    graph.users.set(OID, [group("a"), directoryRole("Global Reader"), group(null), group("b"), group(null)]);
    expect([...(await provider().groupsOf({ oid: OID }))].sort()).toEqual(["a", "b"]);
    expect(warnings()).toEqual([{ skipped: 2, attribute: "displayName" }]);
  });

  it("can name groups by id", async () => {
    const id = "0b8f1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d";
    graph.users.set(OID, [group(null, id)]);
    expect(await provider({ nameAttribute: "id" }).groupsOf({ oid: OID })).toEqual([id]);
  });

  it("lists each group with its id and display name, the same object while cached", async () => {
    const a = group("a");
    const nameless = group(null);
    graph.users.set(OID, [a, directoryRole("Global Reader"), nameless]);
    const groups = provider();
    const listed = await groups.directoryGroupsOf({ oid: OID });
    expect(listed).toEqual([
      { id: a.id, name: "a" },
      { id: nameless.id, name: undefined },
    ]);
    expect(await groups.directoryGroupsOf({ oid: OID })).toBe(listed);
    expect(await groups.groupsOf({ oid: OID })).toBe(await groups.groupsOf({ oid: OID }));
  });

  it("gives a trusted token's groups as ids without names, the same object for the same claims", async () => {
    const v1 = entraV1().claims;
    const trusted = provider({ trustTokenGroups: true });
    const groups = await trusted.directoryGroupsOf(v1);
    expect(groups).toEqual((v1.groups as string[]).map((id) => ({ id })));
    expect(await trusted.directoryGroupsOf(v1)).toBe(groups);
    expect(graph.graphRequests).toBe(0);
  });

  it("honours Retry-After on 429 and 503, then succeeds", async () => {
    graph.users.set(OID, [group("a")]);
    graph.faults.push({ status: 429, retryAfter: "2" }, { status: 503, retryAfter: "1" });
    expect(await provider().groupsOf({ oid: OID })).toEqual(["a"]);
    expect(sleeps).toEqual([2000, 1000]);
    expect(graph.graphRequests).toBe(3);
  });

  it("gives up at once when Retry-After is beyond the time budget", async () => {
    graph.users.set(OID, [group("a")]);
    graph.faults.push({ status: 429, retryAfter: "60" });
    const error = await failure(provider({ budgetMs: 10_000 }).groupsOf({ oid: OID }));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(sleeps).toEqual([]);
    expect(graph.graphRequests).toBe(1);
  });

  it("fails closed in a 500 storm with bounded calls, and does not multiply calls during the outage", async () => {
    graph.users.set(OID, [group("a")]);
    graph.storm = 500;
    const groups = provider({ retry: { maxAttempts: 3, now: () => clock, sleep: async () => {} } });
    expect(await failure(groups.groupsOf({ oid: OID }))).toBeInstanceOf(UnavailableError);
    expect(graph.graphRequests).toBe(3);
    // Within the negative-cache window further lookups reuse the failure.
    for (let i = 0; i < 10; i++)
      expect(await failure(groups.groupsOf({ oid: OID }))).toBeInstanceOf(UnavailableError);
    expect(graph.graphRequests).toBe(3);
    clock += 5_000;
    graph.storm = undefined;
    expect(await groups.groupsOf({ oid: OID })).toEqual(["a"]);
  });

  it("fetches a new app token when Graph says the old one expired", async () => {
    graph.users.set(OID, [group("a")]);
    const groups = provider({ cacheTtlMs: 1 });
    await groups.groupsOf({ oid: OID });
    graph.expireTokens();
    clock += 10;
    expect(await groups.groupsOf({ oid: OID })).toEqual(["a"]);
    expect(graph.tokenRequests).toBe(2);
  });

  it("refreshes the app token shortly before it expires, and not before", async () => {
    graph.users.set(OID, [group("a")]);
    graph.tokenLifetimeS = 3600;
    const groups = provider({ cacheTtlMs: 1 });
    await groups.groupsOf({ oid: OID });
    clock += 3000 * 1000;
    await groups.groupsOf({ oid: OID });
    expect(graph.tokenRequests).toBe(1);
    clock += 400 * 1000; // within five minutes of expiry
    await groups.groupsOf({ oid: OID });
    expect(graph.tokenRequests).toBe(2);
  });

  it("shares one app token request among concurrent lookups of different users", async () => {
    const oids = Array.from({ length: 10 }, (_, i) => `8f3d2b1a-4c5e-4f6a-9b8c-00000000000${i}`);
    for (const oid of oids) graph.users.set(oid, [group(oid)]);
    const groups = provider();
    const results = await Promise.all(oids.map((oid) => groups.groupsOf({ oid })));
    expect(results.map((r) => r[0])).toEqual(oids);
    expect(graph.tokenRequests).toBe(1);
  });

  it("makes one listing for 100 concurrent lookups of one uncached user", async () => {
    graph.pageSize = 2;
    graph.users.set(
      OID,
      ["a", "b", "c"].map((n) => group(n)),
    );
    const groups = provider();
    const results = await Promise.all(Array.from({ length: 100 }, () => groups.groupsOf({ oid: OID })));
    expect(results.every((r) => r.length === 3)).toBe(true);
    expect(graph.listings).toBe(1);
    expect(graph.graphRequests).toBe(2);
  });

  it("reuses a user's groups until the cache TTL passes", async () => {
    graph.users.set(OID, [group("a")]);
    const groups = provider({ cacheTtlMs: 300_000 });
    await groups.groupsOf({ oid: OID });
    graph.users.set(OID, [group("a"), group("b")]);
    clock += 299_999;
    expect(await groups.groupsOf({ oid: OID })).toEqual(["a"]);
    clock += 1;
    expect(await groups.groupsOf({ oid: OID })).toEqual(["a", "b"]);
    expect(graph.listings).toBe(2);
  });

  it("uses the token's own groups only when trusted and not marked as overage", async () => {
    graph.users.set(OID, [group("from-graph")]);
    const v1 = entraV1().claims;
    const trusted = provider({ trustTokenGroups: true });
    expect(await trusted.groupsOf(v1)).toEqual(v1.groups);
    expect(graph.graphRequests).toBe(0);

    expect(await provider().groupsOf(v1)).toEqual(["from-graph"]);
    expect(await trusted.groupsOf({ ...v1, groups: [], hasgroups: true })).toEqual(["from-graph"]);
    const v2 = { ...entraV2().claims, oid: OID, groups: ["partial"] };
    expect(await trusted.groupsOf(v2)).toEqual(["from-graph"]);
  });

  it("refuses a token without a GUID oid", async () => {
    for (const claims of [{}, { oid: "alice" }, { oid: 42 }]) {
      const error = await failure(provider().groupsOf(claims));
      expect((error as UnauthenticatedError).reason).toBe("oid_missing");
    }
    expect(graph.graphRequests).toBe(0);
  });

  it("refuses a user unknown to the directory", async () => {
    const error = await failure(provider().groupsOf({ oid: OID }));
    expect((error as UnauthenticatedError).reason).toBe("directory_user_not_found");
  });

  it("reports refused client credentials without echoing the secret", async () => {
    graph.users.set(OID, [group("a")]);
    const error = await failure(provider({ clientSecret: "wrong-secret-value" }).groupsOf({ oid: OID }));
    expect(error).toBeInstanceOf(UnavailableError);
    expect(String((error as Error).message)).toContain("invalid_client");
    expect(String((error as Error).message)).not.toContain("wrong-secret-value");
  });

  it("does not follow a nextLink to another host", async () => {
    graph.pageSize = 1;
    graph.users.set(OID, [group("a"), group("b")]);
    graph.nextLinkOrigin = "http://127.0.0.2:1";
    expect(await failure(provider().groupsOf({ oid: OID }))).toBeInstanceOf(UnavailableError);
  });

  it("stops after the page bound", async () => {
    graph.pageSize = 1;
    graph.users.set(
      OID,
      ["a", "b", "c"].map((n) => group(n)),
    );
    expect(await failure(provider({ maxPages: 2 }).groupsOf({ oid: OID }))).toBeInstanceOf(UnavailableError);
    expect(graph.graphRequests).toBe(2);
  });

  it("times out when Graph does not answer within the budget", async () => {
    graph.users.set(OID, [group("a")]);
    graph.hang = true;
    const { groups } = createAzureGraph({
      ...graph.connection,
      budgetMs: 1_000,
      retry: { requestTimeoutMs: 300, baseDelayMs: 10 },
    });
    expect(await failure(groups.groupsOf({ oid: OID }))).toBeInstanceOf(DeadlineExceededError);
    expect(graph.graphRequests).toBeGreaterThanOrEqual(2);
  });

  it("reports an unreachable token endpoint as unavailable", async () => {
    const groups = provider({
      authorityHost: "http://127.0.0.1:9",
      retry: { maxAttempts: 2, baseDelayMs: 1 },
    });
    expect(await failure(groups.groupsOf({ oid: OID }))).toBeInstanceOf(UnavailableError);
  });
});
