import { randomUUID } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRemoteKeySet } from "../../src/identity/remote-key-set.js";
import { FakeStore } from "../support/fake-store.js";
import { group, GraphStandIn } from "../support/graph-stand-in.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { DelayProxy } from "./support/delay-proxy.js";
import { postWebhook } from "./support/http.js";
import { seedHardeningMapping } from "./support/mapping.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";

async function decide(running: RunningSidecar, token: string): Promise<number> {
  const answer = await postWebhook(running.webhookUrl, {
    headers: { Authorization: `Bearer ${token}` },
    request: { query: "{ customers }" },
  });
  return answer.status;
}

// Microsoft Graph, reached through a proxy that can slow it down or hang for one user. The hung lookup is
// started first and checked last, so its 10 s time budget runs while the other tests do.
let graphIssuer: JwksIssuer;
let graph: GraphStandIn;
let proxy: DelayProxy;
let azure: RunningSidecar;
const oid = randomUUID();
const hungOid = randomUUID();
let hungRequests = 0;
let hungOutcome: Promise<number[]>;
// One Entra group per granted name: each name is pinned to one object id, so members join that very group.
const analysts = group("analysts");

/** An Entra v1 token of a user whose groups only Graph knows. */
const entraToken = (userOid = oid) =>
  graphIssuer.sign({
    iss: `https://sts.windows.net/${graph.tenantId}/`,
    tid: graph.tenantId,
    oid: userOid,
    unique_name: "zoe@corp.com",
  });

beforeAll(async () => {
  graphIssuer = await JwksIssuer.start();
  graph = await GraphStandIn.start();
  proxy = await DelayProxy.start(graph.url);
  graph.createGroup("finance");
  for (const user of [oid, hungOid]) graph.users.set(user, [analysts]);
  proxy.hang = (path) => {
    const hung = path.includes(hungOid);
    if (hung) hungRequests++;
    return hung;
  };
  azure = await startTestSidecar(
    {
      JWKS_URL: graphIssuer.jwksUrl,
      JWT_AUDIENCE: graphIssuer.audience,
      ROLEMAPPER_API_INSECURE: "true",
      GROUPS_PROVIDER: "azure",
      AZURE_TENANT_ID: graph.tenantId,
      AZURE_CLIENT_ID: graph.clientId,
      AZURE_CLIENT_SECRET: graph.clientSecret,
      AZURE_AUTHORITY_HOST: graph.url,
      GRAPH_BASE_URL: `${proxy.url}/v1.0`,
    },
    { store: new FakeStore() },
  );
  await seedHardeningMapping(azure.sidecar.service);
  const token = await entraToken(hungOid);
  hungOutcome = Promise.all(Array.from({ length: 10 }, () => decide(azure, token)));
});
afterAll(async () => {
  await azure?.stop();
  await proxy?.close();
  await graph?.close();
  await graphIssuer?.close();
});

describe("Microsoft Graph down or slow", () => {
  it("up: the group from Graph grants the role (the baseline)", async () => {
    expect(await decide(azure, await entraToken())).toBe(200);
  });

  it("slow but within the budget (1 s per call): 200, and 20 concurrent decisions of one user share one lookup", async () => {
    proxy.delayMs = 1_000;
    const slowUser = randomUUID();
    graph.users.set(slowUser, [analysts]);
    const before = graph.graphRequests;
    const token = await entraToken(slowUser);
    try {
      const statuses = await Promise.all(Array.from({ length: 20 }, () => decide(azure, token)));
      expect(new Set(statuses)).toEqual(new Set([200]));
      expect(graph.graphRequests - before).toBe(1);
    } finally {
      proxy.delayMs = 0;
    }
  });

  it("down (503 storm): 500 after the retries, never a decision made as if the user had no groups", async () => {
    graph.storm = 503;
    const otherUser = randomUUID();
    graph.users.set(otherUser, [analysts]);
    try {
      expect(await decide(azure, await entraToken(otherUser))).toBe(500);
    } finally {
      graph.storm = undefined;
    }
    // Graph back: the next user's lookup succeeds at once.
    const nextUser = randomUUID();
    graph.users.set(nextUser, [analysts]);
    expect(await decide(azure, await entraToken(nextUser))).toBe(200);
  });
});

/** A sidecar verifying one issuer's tokens through a proxy, with a key set and a cooldown clock of its own. */
interface JwksWorld {
  readonly issuer: JwksIssuer;
  readonly jwksProxy: DelayProxy;
  readonly running: RunningSidecar;
  /** Moves the key set's clock past the refetch cooldown, instead of waiting it out. */
  pastTheCooldown(): void;
  stop(): Promise<void>;
}

const COOLDOWN_MS = 1_500;

async function startJwksWorld(): Promise<JwksWorld> {
  const issuer = await JwksIssuer.start();
  const jwksProxy = await DelayProxy.start(issuer.url);
  let clock = Date.now();
  // The remote key set as wired in production, with a short timeout so the test need not wait the production
  // 5 s, and its own clock for the cooldown; the JWKS is reached through a proxy that can slow it down.
  const keys = createRemoteKeySet({
    url: `${jwksProxy.url}/jwks.json`,
    timeoutMs: 1_000,
    cooldownMs: COOLDOWN_MS,
    now: () => clock,
  });
  const running = await startTestSidecar(
    { JWKS_URL: issuer.jwksUrl, JWT_AUDIENCE: issuer.audience, ROLEMAPPER_API_INSECURE: "true" },
    { store: new FakeStore(), keySource: { keys, issuer: [issuer.url], audience: [issuer.audience] } },
  );
  await seedHardeningMapping(running.sidecar.service);
  return {
    issuer,
    jwksProxy,
    running,
    pastTheCooldown: () => (clock += COOLDOWN_MS),
    async stop() {
      await running.stop();
      await jwksProxy.close();
      await issuer.close();
    },
  };
}

// Each case starts from a sidecar that has fetched nothing yet: what a case finds in the key set is what it did.
describe("the JWKS endpoint down or slow", () => {
  let world: JwksWorld;
  const ALICE = { unique_name: "alice@corp.com", groups: ["analysts"] };

  beforeEach(async () => {
    world = await startJwksWorld();
  });
  afterEach(async () => {
    await world?.stop();
  });

  /** Loads the issuer's current keys into the sidecar through an allowed decision. */
  async function keysLoaded(): Promise<void> {
    expect(await decide(world.running, await world.issuer.sign(ALICE))).toBe(200);
  }

  it("down before any key was fetched: 500 (fail closed, never 200), then 200 once it is back", async () => {
    const { issuer, running } = world;
    issuer.mode = "down";
    const token = await issuer.sign(ALICE);
    expect(await decide(running, token)).toBe(500);
    issuer.mode = "up";
    world.pastTheCooldown();
    await expect.poll(() => decide(running, token), { timeout: 5_000 }).toBe(200);
  });

  it("hanging, with a key rotated meanwhile: 50 concurrent decisions refused (500, or 401 within the refetch cooldown), the JWKS fetched at most twice", async () => {
    const { issuer, running } = world;
    await keysLoaded();
    const rotated = await issuer.rotate();
    const token = await issuer.sign(ALICE, { kid: rotated });
    // Past the cooldown of the last fetch, so the unknown kid makes the key set refetch.
    world.pastTheCooldown();
    issuer.mode = "hang";
    const before = issuer.jwksFetches;
    try {
      const statuses = await Promise.all(Array.from({ length: 50 }, () => decide(running, token)));
      expect(statuses.every((status) => status === 500 || status === 401)).toBe(true);
      expect(statuses).toContain(500);
      expect(issuer.jwksFetches - before).toBeLessThanOrEqual(2);
    } finally {
      issuer.mode = "up";
    }
    world.pastTheCooldown();
    await expect.poll(() => decide(running, token), { timeout: 5_000 }).toBe(200);
  });

  it("slow but within the fetch timeout, with a key rotated meanwhile: 200 for 20 concurrent decisions, one fetch", async () => {
    const { issuer, jwksProxy, running } = world;
    await keysLoaded();
    const rotated = await issuer.rotate();
    const token = await issuer.sign(ALICE, { kid: rotated });
    world.pastTheCooldown();
    jwksProxy.delayMs = 300;
    const before = issuer.jwksFetches;
    const statuses = await Promise.all(Array.from({ length: 20 }, () => decide(running, token)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    expect(issuer.jwksFetches - before).toBe(1);
  });

  it("down after the keys were loaded: known keys keep working; a token of an unknown key is not allowed", async () => {
    const { issuer, running } = world;
    const known = await issuer.sign(ALICE);
    await keysLoaded();
    issuer.mode = "down";
    expect(await decide(running, known)).toBe(200);
    const stray = await issuer.sign(ALICE, {}, await JwksIssuer.strayKey("new-key"));
    expect([401, 500]).toContain(await decide(running, stray));
  });
});

describe("Microsoft Graph hanging", () => {
  it("500 for every caller once the lookup's time budget is spent, the callers sharing one retried lookup", async () => {
    const statuses = await hungOutcome;
    expect(new Set(statuses)).toEqual(new Set([500]));
    // One listing, retried within its budget: not one per caller.
    expect(hungRequests).toBeGreaterThanOrEqual(1);
    expect(hungRequests).toBeLessThanOrEqual(4);
  }, 30_000);
});
