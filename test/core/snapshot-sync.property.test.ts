import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { MappingService } from "../../src/core/mapping-service.js";
import { Snapshot } from "../../src/core/snapshot.js";
import { SnapshotSync } from "../../src/core/snapshot-sync.js";
import { createSqlStore, type SqlStore } from "../../src/store/sql-store.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { openPristinePglite } from "../support/pglite-template.js";
import { RecordingLogger } from "../support/recording-logger.js";
import { borrowed } from "../store/sql-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// A small world, so that writes collide: four roles (admin among them, reserved), five users, three groups.
const ROLES = ["r0", "r1", "r2", "admin"];
const USERS = ["user:u0", "user:u1", "user:u2", "user:u3", "user:u4"];
const GROUPS = ["group:g0", "group:g1", "group:g2"];
const FIELDS = ["f0", "f1", "f2"];

interface Replica {
  readonly store: SqlStore;
  readonly sync: SnapshotSync;
  readonly service: MappingService;
}

type Action =
  | { kind: "upsert"; on: 0 | 1; role: string; fields: string[] }
  | { kind: "users"; on: 0 | 1; role: string; users: string[] }
  | { kind: "groups"; on: 0 | 1; role: string; groups: string[] }
  | { kind: "delete"; on: 0 | 1; role: string }
  | { kind: "sql"; statement: number; role: string; other: string; subject: string; field: string }
  | { kind: "poll"; on: 0 | 1 };

// Edits made with SQL, as an operator or Hasura's console would: one statement each, one touching two roles.
function sqlEdits(s: string): ((a: Extract<Action, { kind: "sql" }>) => [string, unknown[]])[] {
  const table = (subject: string) => (subject.startsWith("group:") ? `${s}.group_roles` : `${s}.user_roles`);
  const column = (subject: string) => (subject.startsWith("group:") ? `"group"` : `"user"`);
  return [
    (a) => [
      `INSERT INTO ${s}.roles (role_id, component_id) VALUES ($1::text, 'c-' || $1::text) ON CONFLICT DO NOTHING`,
      [a.role],
    ],
    (a) => [
      `INSERT INTO ${table(a.subject)} (${column(a.subject)}, role_id)
       SELECT $1, role_id FROM ${s}.roles WHERE role_id = $2 ON CONFLICT DO NOTHING`,
      [a.subject, a.role],
    ],
    (a) => [`DELETE FROM ${table(a.subject)} WHERE ${column(a.subject)} = $1`, [a.subject]],
    (a) => [
      `INSERT INTO ${s}.role_graphql_root_field_names (role_id, graphql_root_field_name)
       SELECT role_id, $2 FROM ${s}.roles WHERE role_id = $1 ON CONFLICT DO NOTHING`,
      [a.role, a.field],
    ],
    (a) => [`DELETE FROM ${s}.roles WHERE role_id = $1`, [a.role]],
    (a) => [
      `UPDATE ${table(a.subject)} t SET role_id = $3 WHERE ${column(a.subject)} = $1 AND role_id = $2
       AND EXISTS (SELECT 1 FROM ${s}.roles r WHERE r.role_id = $3)
       AND NOT EXISTS (SELECT 1 FROM ${table(a.subject)} o WHERE o.${column(a.subject)} = $1 AND o.role_id = $3)`,
      [a.subject, a.role, a.other],
    ],
  ];
}

const EDITS = sqlEdits("s").length;

const replicaOf = fc.constantFrom<0 | 1>(0, 1);
const roleOf = fc.constantFrom(...ROLES);
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant("upsert"), on: replicaOf, role: roleOf, fields: fc.subarray(FIELDS) }),
  fc.record({ kind: fc.constant("users"), on: replicaOf, role: roleOf, users: fc.subarray(USERS) }),
  fc.record({ kind: fc.constant("groups"), on: replicaOf, role: roleOf, groups: fc.subarray(GROUPS) }),
  fc.record({ kind: fc.constant("delete"), on: replicaOf, role: roleOf }),
  fc.record({
    kind: fc.constant("sql"),
    statement: fc.integer({ min: 0, max: EDITS - 1 }),
    role: roleOf,
    other: roleOf,
    subject: fc.constantFrom(...USERS, ...GROUPS),
    field: fc.constantFrom(...FIELDS),
  }),
  fc.record({ kind: fc.constant("poll"), on: replicaOf }),
);
// Each step runs its actions at once: a write on one replica racing a poll or a write on the other.
const steps = fc.array(fc.array(action, { minLength: 1, maxLength: 2 }), { minLength: 1, maxLength: 12 });

// What a replica decides by, compared role by role and subject by subject.
function picture(snapshot: Snapshot) {
  return {
    roles: ROLES.map((id) => {
      const role = snapshot.role(id);
      return [id, role && { ...role, rootFields: [...role.rootFields].sort() }, snapshot.grantsOf(id)];
    }),
    subjects: [...USERS, ...GROUPS].map((subject) => [
      subject,
      [...snapshot.rolesOfSubject(subject)].sort(),
      [...snapshot.reservedRolesOf(subject, [])].sort(),
    ]),
    sizes: [snapshot.roleCount, snapshot.grants, snapshot.ignoredReserved],
    checksum: snapshot.checksumExcept([]),
  };
}

describe("two replicas writing at random, with edits made with SQL between", () => {
  let db: SqlClient | undefined;
  let runs = 0;
  afterAll(() => db?.close());

  async function replica(schema: string): Promise<Replica> {
    const store = await createSqlStore({ client: borrowed(db!), schema, migrate: true });
    const logger = new RecordingLogger();
    const sync = new SnapshotSync(store, {
      verifyMs: 3_600_000,
      pollMs: 3_600_000,
      maxStalenessMs: 3_600_000,
      logger,
    });
    await sync.start();
    return { store, sync, service: new MappingService(store, sync) };
  }

  async function run(replicas: readonly Replica[], s: string, a: Action): Promise<void> {
    if (a.kind === "poll") return replicas[a.on]!.sync.poll();
    if (a.kind === "sql") {
      const [text, params] = sqlEdits(s)[a.statement]!(a);
      await db!.query(text, params);
      return;
    }
    const service = replicas[a.on]!.service;
    // Refusals (a missing role, the reserved admin) are part of the game: they must change nothing.
    const write =
      a.kind === "upsert"
        ? service.upsertRole(INTERNAL_CALLER, {
            roleId: a.role,
            componentId: `c-${a.role}`,
            rootFields: a.fields,
          })
        : a.kind === "users"
          ? service.setUserRoles(INTERNAL_CALLER, a.role, a.users)
          : a.kind === "groups"
            ? service.setGroupRoles(INTERNAL_CALLER, a.role, a.groups)
            : service.deleteRole(INTERNAL_CALLER, a.role);
    await write.catch(() => undefined);
  }

  it("both end with the store's mappings once they have polled", async () => {
    db ??= await openPristinePglite();
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const schema = `converge_${runs++}`;
        const s = `"${schema}"`;
        const replicas = [await replica(schema), await replica(schema)];
        try {
          for (const step of plan) await Promise.all(step.map((a) => run(replicas, s, a)));
          for (const { sync } of replicas) await sync.poll();
          const truth = picture(Snapshot.from(await replicas[0]!.store.loadAll()));
          for (const { sync } of replicas) expect(picture(sync.fresh())).toEqual(truth);
        } finally {
          for (const { sync } of replicas) sync.stop();
        }
      }),
      { numRuns: 25 },
    );
  }, 600_000);
});
