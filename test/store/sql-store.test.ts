import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError, UnavailableError } from "../../src/core/errors.js";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import { createSqlStore } from "../../src/store/sql-store.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { openPristinePglite, seedPristineCluster } from "../support/pglite-template.js";
import { borrowed } from "./sql-harness.js";

// One PGlite in memory for the file (each costs seconds to make; the settings case checks one in memory):
// every case uses a schema of its own.
let db: { readonly client: SqlClient };
beforeAll(async () => {
  db = { client: await openPgliteClient(undefined) };
});
afterAll(() => db.client.close());

describe("SqlStore specifics (PGlite)", () => {
  it("refuses a schema name that is not a plain identifier before touching the database", async () => {
    await expect(
      createSqlStore({ client: borrowed(db.client), schema: "x; DROP SCHEMA public", migrate: true }),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("loads everything across many small pages of roles", async () => {
    const store = await createSqlStore({
      client: borrowed(db.client),
      schema: "paged",
      migrate: true,
      loadPageSize: 3,
    });
    const subjects = Array.from({ length: 7 }, (_, i) => `user:u${i}`);
    for (let r = 0; r < 5; r++) {
      await store.upsertRole({
        roleId: `role-${r}`,
        componentId: `c-${r}`,
        rootFields: ["a", "b", "c", "d"],
      });
      await store.setUserRoles(`role-${r}`, subjects);
      await store.setGroupRoles(`role-${r}`, [`group:g${r}`, "group:all"]);
    }
    const data = await store.loadAll();
    expect(data.roles).toHaveLength(5);
    expect(data.roles.every((role) => role.rootFields.length === 4)).toBe(true);
    expect(new Set(data.userGrants.map((g) => `${g.subject}>${g.roleId}`)).size).toBe(35);
    expect(data.userGrants).toHaveLength(35);
    expect(data.groupGrants).toHaveLength(10);
  });

  it("takes a role's mappings with it when the role is deleted with plain SQL (ON DELETE CASCADE)", async () => {
    const store = await createSqlStore({ client: borrowed(db.client), schema: "cascade", migrate: true });
    await store.upsertRole({ roleId: "r", componentId: "c", rootFields: ["f"] });
    await store.setUserRoles("r", ["user:a"]);
    const marker = await store.changeMarker();
    await db.client.query(`DELETE FROM cascade.roles WHERE role_id = 'r'`);
    expect(await store.listSubjectRoles("user:a")).toEqual([]);
    expect(await store.changeMarker()).not.toBe(marker);
  });

  it("says the journal is missing where deploy/sql/003 was never applied, so replicas reload everything", async () => {
    const store = await createSqlStore({ client: borrowed(db.client), schema: "unjournaled", migrate: true });
    await db.client.query(`DROP TABLE unjournaled.rolemapping_changes CASCADE`);
    await db.client.query(`ALTER TABLE unjournaled.rolemapping_version DROP COLUMN journal_floor CASCADE`);
    expect(await store.changesSince(await store.changeMarker(), 10)).toEqual({
      complete: false,
      reason: "missing",
    });
  });

  it("runs the embedded PostgreSQL with 32 MB of shared buffers, in memory and in a data directory", async () => {
    // PGlite keeps them in memory that never shrinks; the default 128 MB put a million-grant load over 500 MB.
    expect(await db.client.query("SHOW shared_buffers")).toEqual([{ shared_buffers: "32MB" }]);
    const dir = await mkdtemp(join(tmpdir(), "rolemapper-pglite-"));
    try {
      // A data directory as a restarted sidecar finds it: a cluster openPgliteClient made, copied.
      await seedPristineCluster(dir);
      const onDisk = await openPgliteClient(join(dir, "pgdata"));
      expect(await onDisk.query("SHOW shared_buffers")).toEqual([{ shared_buffers: "32MB" }]);
      await onDisk.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses a page size below 1", async () => {
    const store = await createSqlStore({ client: borrowed(db.client), schema: "pages", migrate: true });
    await expect(store.listRoles(0, undefined)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it("reports a closed database as unavailable on reads and writes", async () => {
    const store = await createSqlStore({ client: await openPristinePglite(), migrate: true });
    await store.close();
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.getRole("r")).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.setUserRoles("r", ["user:a"])).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("SqlStore loadAll at volume (PGlite)", () => {
  // The million-row case with time and memory figures is test/bench/sql-load-all.ts.
  it("returns every one of 100,000 grants spread over 500 roles", async () => {
    const store = await createSqlStore({ client: borrowed(db.client), migrate: true });
    await db.client.query(
      `INSERT INTO rolemapping.roles SELECT 'role-' || r, 'component-' || r FROM generate_series(1, 500) r`,
    );
    await db.client.query(
      `INSERT INTO rolemapping.user_roles ("user", role_id)
       SELECT 'user:u' || (g / 500), 'role-' || (g % 500 + 1) FROM generate_series(0, 89999) g`,
    );
    await db.client.query(
      `INSERT INTO rolemapping.group_roles ("group", role_id)
       SELECT 'group:g' || (g / 500), 'role-' || (g % 500 + 1) FROM generate_series(0, 9999) g`,
    );
    const data = await store.loadAll();
    expect(data.roles).toHaveLength(500);
    expect(data.userGrants).toHaveLength(90_000);
    expect(data.groupGrants).toHaveLength(10_000);
    expect(new Set(data.userGrants.map((g) => `${g.subject}>${g.roleId}`)).size).toBe(90_000);
    expect(data.userGrants).toContainEqual({ subject: "user:u179", roleId: "role-1" });
    expect(data.groupGrants).toContainEqual({ subject: "group:g19", roleId: "role-500" });
  });
});
