import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  DeadlineExceededError,
  InvalidArgumentError,
  isCoreError,
  UnavailableError,
} from "../../src/core/errors.js";
import type { MappingData } from "../../src/core/mapping.js";
import { createHasuraStore } from "../../src/store/hasura-store.js";
import {
  hasuraStoreHarness,
  TEST_ADMIN_SECRET,
  type OpenedHasuraStore,
} from "../support/hasura/store-harness.js";
import { startHasuraStandIn } from "../support/hasura/server.js";
import { RecordingLogger } from "../support/recording-logger.js";

const harness = hasuraStoreHarness("pglite");
afterAll(() => harness.dropAll());

let opened: OpenedHasuraStore | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});
const open = async (pageSize?: number) => (opened = await harness.openStore({ pageSize }));
// For a case that alters the tables: a schema and stand-in of its own, not the file's shared ones.
const openOwn = async () => (opened = await harness.openOwnStore());

/** Requests the stand-in received while `work` ran. */
async function requestsDuring(o: OpenedHasuraStore, work: () => Promise<unknown>): Promise<number> {
  const before = o.standIn.requestCount();
  await work();
  return o.standIn.requestCount() - before;
}

const users = (count: number, tag: string) =>
  Array.from({ length: count }, (_, i) => `user:${tag}-${String(i).padStart(5, "0")}`);

describe("HasuraStore: one request per write", () => {
  it("upserts a role with 4 root fields in one request", async () => {
    const o = await open();
    const role = { roleId: "r", componentId: "c", rootFields: ["d", "c", "b", "a"] };
    expect(await requestsDuring(o, () => o.store.upsertRole(role))).toBe(1);
    expect(await o.store.getRole("r")).toEqual({ ...role, rootFields: ["a", "b", "c", "d"] });
  });

  it("sets 10,000 users of a role in one request, and deletes the role in one request", async () => {
    const o = await open();
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["a"] });
    expect(await requestsDuring(o, () => o.store.setUserRoles("r", users(10_000, "u")))).toBe(1);
    expect((await o.store.getRoleGrants("r"))?.users).toHaveLength(10_000);
    expect(await requestsDuring(o, () => o.store.deleteRole("r"))).toBe(1);
    expect(await o.store.getRoleGrants("r")).toBeUndefined();
  });

  it("loads everything in pages of the configured size", async () => {
    const o = await open(2);
    for (const n of [1, 2, 3, 4, 5]) {
      await o.store.upsertRole({ roleId: `r${n}`, componentId: `c${n}`, rootFields: [`f${n}`] });
    }
    await o.store.setUserRoles("r1", ["user:a", "user:b", "user:c"]);
    await o.store.setUserRoles("r2", ["user:a", "user:b"]);
    await o.store.setGroupRoles("r3", ["group:g"]);
    let data: MappingData | undefined;
    // 3 pages of roles, 3 of user grants (2+2+1), 1 of group grants.
    expect(await requestsDuring(o, async () => (data = await o.store.loadAll()))).toBe(7);
    expect(data!.roles.map((r) => r.roleId)).toEqual(["r1", "r2", "r3", "r4", "r5"]);
    expect(data!.userGrants.map((g) => `${g.roleId}/${g.subject}`)).toEqual([
      "r1/user:a",
      "r1/user:b",
      "r1/user:c",
      "r2/user:a",
      "r2/user:b",
    ]);
    expect(data!.groupGrants).toEqual([{ subject: "group:g", roleId: "r3" }]);
  });
});

describe("HasuraStore: group pins", () => {
  it("sets groups with their pins in one request, and loads the pins in pages", async () => {
    const o = await open(2);
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["a"] });
    const groups = ["group:a", "group:b", "group:c"];
    const pins = groups.map((group, i) => ({ group, objectId: `id-${i}` }));
    expect(await requestsDuring(o, () => o.store.setGroupRoles("r", groups, pins))).toBe(1);
    let loaded: unknown;
    // 2 + 1 pins.
    expect(await requestsDuring(o, async () => (loaded = await o.store.loadGroupPins()))).toBe(2);
    expect(loaded).toEqual(pins);
  });

  it("sets groups without pins by a document that leaves the pin table alone", async () => {
    const o = await openOwn();
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["a"] });
    await o.db.client.query(`DROP TABLE "${o.schema}".group_pins`);
    expect((await o.store.setGroupRoles("r", ["group:a"])).grants.groups).toEqual(["group:a"]);
  });
});

describe("HasuraStore: atomic writes", () => {
  it("keeps the previous users when a set fails part-way (a value longer than the column)", async () => {
    const o = await open();
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: [] });
    await o.store.setUserRoles("r", ["user:kept-1", "user:kept-2"]);
    const marker = await o.store.changeMarker();
    // The delete of the unlisted users runs first; the insert then fails on the too-long subject.
    await expect(o.store.setUserRoles("r", ["user:new", `user:${"x".repeat(300)}`])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    expect((await o.store.getRoleGrants("r"))?.users).toEqual(["user:kept-1", "user:kept-2"]);
    expect(await o.store.changeMarker()).toBe(marker);
  });

  it("keeps the previous root fields when an upsert is refused", async () => {
    const o = await open();
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["a", "b"] });
    await o.store.upsertRole({ roleId: "other", componentId: "c2", rootFields: [] });
    await expect(
      o.store.upsertRole({ roleId: "r", componentId: "c2", rootFields: ["z"] }),
    ).rejects.toMatchObject({
      kind: "role_id",
    });
    expect(await o.store.getRole("r")).toEqual({ roleId: "r", componentId: "c", rootFields: ["a", "b"] });
  });
});

describe("HasuraStore: names", () => {
  it("uses unprefixed root fields for schema public", async () => {
    // The file's database: no other case uses its schema public for the mapping tables.
    const { client } = await harness.database();
    const standIn = await startHasuraStandIn({ client, schema: "public", adminSecret: "s" });
    try {
      const store = createHasuraStore({ url: standIn.url, adminSecret: "s", schema: "public" });
      await store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
      expect(await client.query("SELECT role_id FROM public.roles")).toEqual([{ role_id: "r" }]);
      expect(await store.getRole("r")).toEqual({ roleId: "r", componentId: "c", rootFields: ["f"] });
    } finally {
      await standIn.close();
    }
  });
});

describe("HasuraStore: change journal", () => {
  it("says the journal is missing while Hasura does not track it, so replicas reload everything", async () => {
    // The file's database: no other case uses its default schema (rolemapping).
    const { client } = await harness.database();
    const standIn = await startHasuraStandIn({ client, adminSecret: "s", trackJournal: false });
    try {
      const store = createHasuraStore({ url: standIn.url, adminSecret: "s", logger: new RecordingLogger() });
      await store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
      expect(await store.changesSince("0", 10)).toEqual({ complete: false, reason: "missing" });
    } finally {
      await standIn.close();
    }
  });

  it("tags each write with a session variable of its own", async () => {
    const o = await open();
    await o.store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
    await o.store.setUserRoles("r", ["user:a"]);
    const writers = await o.db.client.query(
      `SELECT DISTINCT writer FROM "${o.schema}".rolemapping_changes WHERE writer IS NOT NULL`,
    );
    expect(writers).toHaveLength(2);
  });
});

describe("HasuraStore: failures", () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

  /** A local HTTP server answering every request with `answer`; returns its URL and the headers it saw. */
  async function fakeHasura(answer: (res: ServerResponse) => void) {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on("end", () => answer(res));
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/graphql`, seen };
  }

  it("sends the admin secret and the configured role", async () => {
    const fake = await fakeHasura((res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { __typename: "query_root" } }));
    });
    await createHasuraStore({ url: fake.url, adminSecret: "top-secret", role: "rolemapper" }).ping();
    expect(fake.seen[0]).toMatchObject({
      "x-hasura-admin-secret": "top-secret",
      "x-hasura-role": "rolemapper",
    });
  });

  it("reports an unreachable Hasura as UnavailableError", async () => {
    const fake = await fakeHasura(() => undefined);
    const url = fake.url;
    await new Promise((resolve) => servers.pop()!.close(resolve));
    await expect(createHasuraStore({ url, adminSecret: "s" }).ping()).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it("says of a write whose connection was lost once sent that it may still be applied", async () => {
    const fake = await fakeHasura((res) => res.socket?.destroy());
    const store = createHasuraStore({ url: fake.url, adminSecret: "s" });
    const write = await store.setUserRoles("r", ["user:a"]).catch((error: unknown) => error);
    expect(write).toBeInstanceOf(UnavailableError);
    expect((write as Error).message).toBe(
      "Hasura connection lost during set user roles; the write may still be applied, read it back to know",
    );
    const read = await store.getRole("r").catch((error: unknown) => error);
    expect((read as Error).message).toBe("Hasura unreachable for get role");
  });

  it("says of a write that could not connect only that Hasura is unreachable", async () => {
    const fake = await fakeHasura(() => undefined);
    await new Promise((resolve) => servers.pop()!.close(resolve));
    const write = await createHasuraStore({ url: fake.url, adminSecret: "s" })
      .setUserRoles("r", ["user:a"])
      .catch((error: unknown) => error);
    expect(write).toBeInstanceOf(UnavailableError);
    expect((write as Error).message).toBe("Hasura unreachable for set user roles");
  });

  it("reports a 5xx answer without GraphQL errors as UnavailableError", async () => {
    const fake = await fakeHasura((res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>bad gateway</html>");
    });
    await expect(createHasuraStore({ url: fake.url, adminSecret: "s" }).ping()).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it("reports a Hasura that does not answer in time as DeadlineExceededError", async () => {
    const fake = await fakeHasura(() => undefined); // never answers
    const store = createHasuraStore({ url: fake.url, adminSecret: "s", timeoutMs: 100 });
    const failure = await store.changeMarker().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    expect((failure as Error).message).toBe("Hasura did not answer read change marker in time");
  });

  it("says of a write that timed out that it may still be applied", async () => {
    const fake = await fakeHasura(() => undefined);
    const store = createHasuraStore({ url: fake.url, adminSecret: "s", timeoutMs: 100 });
    const failure = await store.setUserRoles("r", ["user:a"]).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeadlineExceededError);
    expect((failure as Error).message).toBe(
      "Hasura did not answer set user roles in time; the write may still be applied, read it back to know",
    );
  });

  it("reports a wrong admin secret as UnavailableError without echoing the secret", async () => {
    const o = await open();
    const store = createHasuraStore({ url: o.standIn.url, adminSecret: "wrong-secret", schema: o.schema });
    const failure = await store.getRole("r").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect(String((failure as Error).message)).not.toContain("wrong-secret");
  });

  it("raises a validation failure as a plain Error and logs it as a bug", async () => {
    const o = await open();
    const logger = new RecordingLogger();
    // Tables of another schema than the server tracks: every document names fields Hasura does not have.
    const store = createHasuraStore({
      url: o.standIn.url,
      adminSecret: TEST_ADMIN_SECRET,
      schema: "elsewhere",
      logger,
    });
    const failure = await store.getRole("r").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(isCoreError(failure)).toBe(false);
    expect((failure as Error).message).toContain("field 'elsewhere_roles_by_pk' not found");
    const logged = logger.entries.filter((entry) => entry.level === "error").map((entry) => entry.obj);
    expect(logged).toEqual([expect.objectContaining({ event: "hasura_request_bug", operation: "get role" })]);
  });
});
