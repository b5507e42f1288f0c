import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SqlClient } from "../../src/store/sql-client.js";
import { openPgliteClient } from "../../src/store/pglite-client.js";
import { postGraphQL } from "../support/hasura/post-graphql.js";
import { SAMPLE_ROWS } from "../support/hasura/sample-data.js";
import { startHasuraStandIn, type HasuraStandIn } from "../support/hasura/server.js";

const SECRET = "stand-in-secret";
const admin = { "x-hasura-admin-secret": SECRET };

let client: SqlClient;
let standIn: HasuraStandIn;
const gql = (query: string, variables?: Record<string, unknown>, headers: Record<string, string> = admin) =>
  postGraphQL(standIn.url, query, { variables, headers });

beforeAll(async () => {
  client = await openPgliteClient(undefined);
  standIn = await startHasuraStandIn({ client, adminSecret: SECRET });
});
afterAll(async () => {
  await standIn.close();
  await client.close();
});

const roleIds = async () =>
  (await client.query("SELECT role_id FROM rolemapping.roles ORDER BY role_id")).map((r) => r.role_id);

describe("Hasura stand-in: admin secret", () => {
  it("refuses a request without the admin secret when no auth hook is configured", async () => {
    expect(await gql("{ rolemapping_roles { role_id } }", undefined, {})).toMatchInlineSnapshot(`
      {
        "body": {
          "errors": [
            {
              "extensions": {
                "code": "access-denied",
                "path": "$",
              },
              "message": "x-hasura-admin-secret/x-hasura-access-key required, but not found",
            },
          ],
        },
        "status": 200,
      }
    `);
  });

  it("refuses a wrong admin secret and runs nothing", async () => {
    const answer = await gql(
      `mutation { insert_rolemapping_roles_one(object: {role_id: "sneaky", component_id: "c"}) { role_id } }`,
      undefined,
      { "x-hasura-admin-secret": "wrong" },
    );
    expect(answer.body).toEqual({
      errors: [
        {
          message: "invalid x-hasura-admin-secret/x-hasura-access-key",
          extensions: { path: "$", code: "access-denied" },
        },
      ],
    });
    expect(await roleIds()).not.toContain("sneaky");
  });
});

describe("Hasura stand-in: validation", () => {
  it("reports an unknown root field in Hasura's words", async () => {
    expect((await gql("{ rolemapping_nope { role_id } }")).body.errors).toEqual([
      {
        message: "field 'rolemapping_nope' not found in type: 'query_root'",
        extensions: { path: "$.selectionSet.rolemapping_nope", code: "validation-failed" },
      },
    ]);
  });

  it("refuses a constraint name the table does not have", async () => {
    const answer = await gql(`mutation {
      insert_rolemapping_roles_one(object: {role_id: "x", component_id: "y"},
        on_conflict: {constraint: user_roles_pkey, update_columns: []}) { role_id }
    }`);
    expect(answer.body.errors?.[0]?.extensions.code).toBe("validation-failed");
    expect(answer.body.errors?.[0]?.message).toContain("user_roles_pkey");
    expect(await roleIds()).not.toContain("x");
  });

  it("refuses a missing non-null variable before touching the database", async () => {
    const answer = await gql(`query ($id: String!) { rolemapping_roles_by_pk(role_id: $id) { role_id } }`);
    expect(answer.body.errors?.[0]?.extensions.code).toBe("validation-failed");
    expect(answer.body.data).toBeUndefined();
  });

  it("refuses a document that does not parse", async () => {
    expect((await gql("{ rolemapping_roles { ")).body.errors?.[0]?.extensions.code).toBe("validation-failed");
  });
});

describe("Hasura stand-in: transactions", () => {
  it("rolls back every mutation field of the request when a later one fails", async () => {
    await gql(
      `mutation { insert_rolemapping_roles_one(object: {role_id: "tx-owner", component_id: "tx-c"}) { role_id } }`,
    );
    const versionBefore = await client.query("SELECT version FROM rolemapping.rolemapping_version");
    const answer = await gql(`mutation {
      first: insert_rolemapping_roles_one(object: {role_id: "tx-new", component_id: "tx-new-c"}) { role_id }
      fields: insert_rolemapping_role_graphql_root_field_names(objects: [{role_id: "tx-owner", graphql_root_field_name: "f"}]) { affected_rows }
      clash: insert_rolemapping_roles_one(object: {role_id: "tx-other", component_id: "tx-c"}) { role_id }
    }`);
    expect(answer.body).toEqual({
      errors: [
        {
          message:
            'Uniqueness violation. duplicate key value violates unique constraint "roles_component_id_key"',
          extensions: { path: "$.selectionSet.clash", code: "constraint-violation" },
        },
      ],
    });
    expect(await roleIds()).not.toContain("tx-new");
    expect(
      await client.query(
        "SELECT * FROM rolemapping.role_graphql_root_field_names WHERE role_id = 'tx-owner'",
      ),
    ).toEqual([]);
    expect(await client.query("SELECT version FROM rolemapping.rolemapping_version")).toEqual(versionBefore);
  });

  it("lets a later field's returning see what an earlier field wrote", async () => {
    const answer = await gql(`mutation {
      role: insert_rolemapping_roles_one(object: {role_id: "seq", component_id: "seq-c"}) { role_id }
      grant: insert_rolemapping_user_roles(objects: [{user: "user:a", role_id: "seq"}]) {
        returning { user role { component_id user_roles { user } } }
      }
    }`);
    expect(answer.body.data).toEqual({
      role: { role_id: "seq" },
      grant: {
        returning: [{ user: "user:a", role: { component_id: "seq-c", user_roles: [{ user: "user:a" }] } }],
      },
    });
  });
});

describe("Hasura stand-in: session variables in the database", () => {
  it("hands a mutation's session variables to the journal's triggers, as Hasura's hasura.user setting", async () => {
    const writes = (tag?: string) =>
      gql(
        `mutation { insert_rolemapping_roles_one(object: {role_id: "${tag ?? "untagged"}", component_id: "${tag ?? "untagged"}-c"}) { role_id } }`,
        undefined,
        tag ? { ...admin, "X-Hasura-Rolemapper-Writer": tag } : admin,
      );
    await writes("tagged-1");
    await writes();
    const entries = await client.query(
      `SELECT id, writer FROM rolemapping.rolemapping_changes WHERE id IN ('tagged-1', 'untagged') ORDER BY id`,
    );
    expect(entries).toEqual([
      { id: "tagged-1", writer: "tagged-1" },
      { id: "untagged", writer: null },
    ]);
  });

  it("serves the journal and the checksum view as tracked tables", async () => {
    const answer = await gql(`{
      rolemapping_rolemapping_checksum { version checksum }
      rolemapping_rolemapping_changes(limit: 1, order_by: [{ version: desc }]) { kind id }
    }`);
    const [marker] = await client.query(
      `SELECT version::text AS version FROM rolemapping.rolemapping_version`,
    );
    expect(answer.body.data).toMatchObject({
      rolemapping_rolemapping_checksum: [
        { version: marker!.version, checksum: expect.stringMatching(/^\d+$/) },
      ],
      rolemapping_rolemapping_changes: [{ kind: "role" }],
    });
  });
});

describe("Hasura stand-in: on_conflict", () => {
  const upsert = (component: string, updateColumns: string, where = "") =>
    gql(`mutation {
      insert_rolemapping_roles_one(object: {role_id: "oc", component_id: "${component}"},
        on_conflict: {constraint: roles_pkey, update_columns: [${updateColumns}] ${where}}) { role_id component_id }
    }`);
  const component = async () =>
    (await client.query("SELECT component_id FROM rolemapping.roles WHERE role_id = 'oc'"))[0]?.component_id;

  it("inserts, then does nothing with update_columns [] (insert_one answers null)", async () => {
    expect((await upsert("oc-1", "")).body.data).toEqual({
      insert_rolemapping_roles_one: { role_id: "oc", component_id: "oc-1" },
    });
    expect((await upsert("oc-2", "")).body.data).toEqual({ insert_rolemapping_roles_one: null });
    expect(await component()).toBe("oc-1");
  });

  it("updates the listed columns only where the condition holds", async () => {
    const guarded = await upsert("oc-3", "component_id", `where: {component_id: {_eq: "not-it"}}`);
    expect(guarded.body.data).toEqual({ insert_rolemapping_roles_one: null });
    expect(await component()).toBe("oc-1");
    const updated = await upsert("oc-3", "component_id", `where: {component_id: {_eq: "oc-1"}}`);
    expect(updated.body.data).toEqual({
      insert_rolemapping_roles_one: { role_id: "oc", component_id: "oc-3" },
    });
  });

  it("reports a clash on a constraint other than the one named", async () => {
    await gql(
      `mutation { insert_rolemapping_roles_one(object: {role_id: "oc-holder", component_id: "held"}) { role_id } }`,
    );
    const answer = await gql(`mutation {
      insert_rolemapping_roles_one(object: {role_id: "oc-new", component_id: "held"},
        on_conflict: {constraint: roles_pkey, update_columns: [component_id]}) { role_id }
    }`);
    expect(answer.body.errors?.[0]?.extensions.code).toBe("constraint-violation");
  });
});

describe("Hasura stand-in: queries", () => {
  beforeAll(async () => {
    await gql(`mutation {
      insert_rolemapping_roles(objects: [
        {role_id: "q-1", component_id: "q-c1"}, {role_id: "q-2", component_id: "q-c2"}, {role_id: "q-3", component_id: "q-c3"}
      ]) { affected_rows }
      insert_rolemapping_group_roles(objects: [
        {group: "group:x", role_id: "q-1"}, {group: "group:x", role_id: "q-2"}, {group: "group:y", role_id: "q-2"}
      ]) { affected_rows }
    }`);
  });

  it("filters with _in, _nin, _or, _not, _is_null and relationships, orders, limits and pages", async () => {
    const answer = await gql(`{
      inList: rolemapping_roles(where: {role_id: {_in: ["q-1", "q-3"]}}, order_by: {role_id: desc}) { role_id }
      notInList: rolemapping_roles(where: {_and: [{role_id: {_like: "q-%"}}, {role_id: {_nin: ["q-1", "q-3"]}}]}) { role_id }
      either: rolemapping_roles(where: {_or: [{role_id: {_eq: "q-1"}}, {component_id: {_eq: "q-c3"}}]}, order_by: {role_id: asc}) { role_id }
      negated: rolemapping_roles(where: {_not: {role_id: {_gt: "q-1"}}, role_id: {_like: "q-%"}}) { role_id }
      nullCheck: rolemapping_roles(where: {component_id: {_is_null: true}}) { role_id }
      byGroup: rolemapping_roles(where: {group_roles: {group: {_eq: "group:y"}}}) { role_id }
      page: rolemapping_roles(where: {role_id: {_like: "q-%"}}, order_by: {role_id: asc}, limit: 1, offset: 1) { role_id }
      groups: rolemapping_group_roles(distinct_on: [group], order_by: [{group: asc}, {role_id: desc}]) { group role_id }
      counted: rolemapping_group_roles_aggregate(where: {group: {_eq: "group:x"}}) { aggregate { count } }
    }`);
    expect(answer.body.data).toEqual({
      inList: [{ role_id: "q-3" }, { role_id: "q-1" }],
      notInList: [{ role_id: "q-2" }],
      either: [{ role_id: "q-1" }, { role_id: "q-3" }],
      negated: [{ role_id: "q-1" }],
      nullCheck: [],
      byGroup: [{ role_id: "q-2" }],
      page: [{ role_id: "q-2" }],
      groups: [
        { group: "group:x", role_id: "q-2" },
        { group: "group:y", role_id: "q-2" },
      ],
      counted: { aggregate: { count: 2 } },
    });
  });

  it("serves the sample table to the admin", async () => {
    expect((await gql("{ output_port_sales(order_by: {id: asc}) { id region amount } }")).body.data).toEqual({
      output_port_sales: SAMPLE_ROWS,
    });
  });
});

describe("Hasura stand-in: roles", () => {
  it("lets a role select only the root fields mapped to it", async () => {
    await gql(`mutation {
      insert_rolemapping_roles_one(object: {role_id: "reader", component_id: "reader-c"}) { role_id }
      insert_rolemapping_role_graphql_root_field_names_one(object: {role_id: "reader", graphql_root_field_name: "output_port_sales"}) { role_id }
    }`);
    const asReader = { ...admin, "x-hasura-role": "reader" };
    expect((await gql("{ output_port_sales { id } }", undefined, asReader)).body.data).toEqual({
      output_port_sales: [{ id: 1 }, { id: 2 }],
    });
    expect((await gql("{ rolemapping_roles { role_id } }", undefined, asReader)).body.errors?.[0]).toEqual({
      message: "field 'rolemapping_roles' not found in type: 'query_root'",
      extensions: { path: "$.selectionSet.rolemapping_roles", code: "validation-failed" },
    });
    const asStranger = { ...admin, "x-hasura-role": "stranger" };
    expect((await gql("{ output_port_sales { id } }", undefined, asStranger)).body.errors?.[0]?.message).toBe(
      "field 'output_port_sales' not found in type: 'query_root'",
    );
  });
});
