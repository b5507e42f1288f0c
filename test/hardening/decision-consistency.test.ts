import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FakeStore } from "../support/fake-store.js";
import { postWebhook } from "./support/http.js";
import { FC_SEED, fuzzTimeout, runs } from "./support/runs.js";
import { startTestSidecar, type RunningSidecar } from "../support/sidecar-harness.js";
import { INTERNAL_CALLER } from "../../src/core/write-audit.js";

// Writes through the service and decisions through the webhook, interleaved at random, against a model of the
// mapping: every decision must reflect every write made before it (no cache may serve a revoked grant).
const ROLES = ["ra", "rb", "rc"] as const;
const FIELDS = ["orders", "customers", "invoices"] as const;
const USERS = ["ann", "ben"] as const;
const GROUPS = ["g1", "g2"] as const;
const GROUPS_OF: Record<(typeof USERS)[number], string[]> = { ann: ["g1"], ben: ["g1", "g2"] };

type Command =
  | { kind: "role"; role: string; fields: string[] }
  | { kind: "delete"; role: string }
  | { kind: "users"; role: string; users: string[] }
  | { kind: "groups"; role: string; groups: string[] }
  | { kind: "decide"; user: (typeof USERS)[number]; fields: string[]; asked: string | undefined };

const role = fc.constantFrom(...ROLES);
// Weighted so that roles exist and are held often enough for decisions to come out both ways.
const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("role" as const),
      role,
      fields: fc.subarray([...FIELDS], { minLength: 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("delete" as const), role }) },
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant("users" as const), role, users: fc.subarray([...USERS]) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("groups" as const), role, groups: fc.subarray([...GROUPS]) }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("decide" as const),
      user: fc.constantFrom(...USERS),
      fields: fc.subarray([...FIELDS], { minLength: 1, maxLength: 2 }),
      asked: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: role }),
    }),
  },
);

// Each role created with some fields and handed to some users and groups, before the random commands.
const initialArbitrary: fc.Arbitrary<Command[]> = fc
  .tuple(
    ...ROLES.map((id) =>
      fc
        .tuple(fc.subarray([...FIELDS], { minLength: 1 }), fc.subarray([...USERS]), fc.subarray([...GROUPS]))
        .map(([fields, users, groups]): Command[] => [
          { kind: "role", role: id, fields },
          { kind: "users", role: id, users },
          { kind: "groups", role: id, groups },
        ]),
    ),
  )
  .map((perRole) => perRole.flat());

let running: RunningSidecar;
const tokens = new Map<string, string>();
beforeAll(async () => {
  running = await startTestSidecar({}, { store: new FakeStore() });
  for (const user of USERS) {
    tokens.set(user, await running.issuer!.mint({ user: `${user}@corp.com`, groups: GROUPS_OF[user] }));
  }
});
afterAll(() => running?.stop());

describe("decisions follow writes at once", () => {
  it(
    "after any sequence of role, grant and delete writes, each decision is the model's",
    async () => {
      const service = running.sidecar.service;
      let allowed = 0;
      await fc.assert(
        fc.asyncProperty(
          initialArbitrary,
          fc.array(commandArbitrary, { minLength: 1, maxLength: 25 }),
          async (initial, rest) => {
            // Start from nothing mapped: the model and the sidecar agree. Then every role is set up once.
            for (const id of ROLES) await service.deleteRole(INTERNAL_CALLER, id).catch(() => undefined);
            const fieldsOf = new Map<string, Set<string>>();
            const holders = new Map<string, Set<string>>();
            for (const command of [...initial, ...rest]) {
              if (command.kind === "role") {
                await service.upsertRole(INTERNAL_CALLER, {
                  roleId: command.role,
                  componentId: `c-${command.role}`,
                  rootFields: command.fields,
                });
                fieldsOf.set(command.role, new Set(command.fields));
                if (!holders.has(command.role)) holders.set(command.role, new Set());
              } else if (command.kind === "delete") {
                await service.deleteRole(INTERNAL_CALLER, command.role).catch(() => undefined);
                fieldsOf.delete(command.role);
                holders.delete(command.role);
              } else if (command.kind === "users" || command.kind === "groups") {
                const subjects =
                  command.kind === "users"
                    ? command.users.map((u) => `user:${u}_corp.com`)
                    : command.groups.map((g) => `group:${g}`);
                const write =
                  command.kind === "users"
                    ? service.setUserRoles(INTERNAL_CALLER, command.role, subjects)
                    : service.setGroupRoles(INTERNAL_CALLER, command.role, subjects);
                if (!fieldsOf.has(command.role)) {
                  await expect(write).rejects.toThrow();
                  continue;
                }
                await write;
                const held = holders.get(command.role) as Set<string>;
                const prefix = command.kind === "users" ? "user:" : "group:";
                for (const subject of [...held]) if (subject.startsWith(prefix)) held.delete(subject);
                for (const subject of subjects) held.add(subject);
              } else {
                const principal = [
                  `user:${command.user}_corp.com`,
                  ...GROUPS_OF[command.user].map((g) => `group:${g}`),
                ];
                const fitting = [...fieldsOf.keys()].filter(
                  (id) =>
                    [...(holders.get(id) ?? [])].some((subject) => principal.includes(subject)) &&
                    command.fields.every((field) => fieldsOf.get(id)?.has(field)),
                );
                const headers: Record<string, string> = {
                  Authorization: `Bearer ${tokens.get(command.user)}`,
                };
                if (command.asked) headers["X-Hasura-Role"] = command.asked;
                const answer = await postWebhook(running.webhookUrl, {
                  headers,
                  request: { query: `{ ${command.fields.join(" ")} }` },
                });
                const expected = command.asked
                  ? fitting.includes(command.asked)
                    ? command.asked
                    : undefined
                  : fitting.sort()[0];
                if (expected !== undefined) allowed++;
                if (expected === undefined) expect(answer.status, JSON.stringify(command)).toBe(401);
                else
                  expect(answer.json, JSON.stringify(command)).toEqual({
                    "X-Hasura-User-Id": `user:${command.user}_corp.com`,
                    "X-Hasura-Role": expected,
                  });
              }
            }
          },
        ),
        { numRuns: runs(0.05), seed: FC_SEED },
      );
      expect(allowed).toBeGreaterThan(0);
    },
    fuzzTimeout(0.05),
  );
});
