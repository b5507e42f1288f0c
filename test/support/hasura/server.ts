import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { GraphQLSchema } from "graphql";
import type { SqlClient } from "../../../src/store/sql-client.js";
import { migrationStatements } from "../../../src/store/sql-schema.js";
import { hasuraPrefix } from "../../../src/store/hasura-names.js";
import { authenticate, type Session } from "./auth.js";
import { loadCatalog, quoteIdent, type TableInfo } from "./catalog.js";
import { executeInTransaction, parseAndValidate, readRequestBody } from "./execute.js";
import { HasuraError } from "./hasura-errors.js";
import { InheritedRoles, metadataError } from "./inherited-roles.js";
import { mappingRelationships, trackedMappingTables } from "./metadata.js";
import { buildSchema } from "./root-fields.js";
import { createSampleTable, DEFAULT_SAMPLE_TABLE, type SampleTable } from "./sample-data.js";

/** How to start the stand-in. */
export interface HasuraStandInOptions {
  /** The database Hasura's Postgres source points at. */
  readonly client: SqlClient;
  /** `ROLEMAPPING_TABLE_SCHEMA` of the mapping tables; default `rolemapping`. */
  readonly schema?: string;
  readonly adminSecret: string;
  /** Hasura's `--auth-hook` (POST mode) for requests without the admin secret. */
  readonly authHook?: string;
  /** Hasura's `HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY`; default true, as in Hasura. */
  readonly authHookSendRequestBody?: boolean;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Create the mapping tables first (default true), as a deployment's migration would. */
  readonly migrate?: boolean;
  /** The output port data served to roles; default `public.output_port_sales`. */
  readonly sampleTable?: SampleTable;
  /** Track the change journal and the checksum view (default true), as a deployment that applied 003 does. */
  readonly trackJournal?: boolean;
  /** More output port tables beside the sample, each served as its own root fields. */
  readonly moreOutputPorts?: readonly SampleTable[];
}

/** A running stand-in. */
export interface HasuraStandIn {
  /** The GraphQL endpoint, `http://host:port/v1/graphql` (what `GRAPHQL_URL` holds). */
  readonly url: string;
  /** Number of `POST /v1/graphql` requests received so far. */
  requestCount(): number;
  /** Number of `POST /v1/graphql` requests being handled now (a request stays counted until its transaction ends). */
  inFlight(): number;
  /** The metadata endpoint, `http://host:port/v1/metadata` (what `HASURA_METADATA_URL` holds). */
  readonly metadataUrl: string;
  /** Number of `POST /v1/metadata` requests received so far, by type. */
  metadataCalls(): ReadonlyMap<string, number>;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * Starts a Hasura-compatible GraphQL server on the mapping tables of `schema` and a sample output port table:
 * the admin (admin secret) gets Hasura's generated schema; any other caller is authenticated by the auth hook
 * and may select only the sample root fields its role maps to in the mapping tables.
 */
export async function startHasuraStandIn(options: HasuraStandInOptions): Promise<HasuraStandIn> {
  const schema = options.schema ?? "rolemapping";
  const sample = options.sampleTable ?? DEFAULT_SAMPLE_TABLE;
  const client = options.client;
  if (options.migrate ?? true)
    for (const statement of migrationStatements(schema)) await client.query(statement);
  const ports = [sample, ...(options.moreOutputPorts ?? [])];
  for (const port of ports) await createSampleTable(client, port);
  const portNames = ports.map((port) => `${hasuraPrefix(port.schema)}${port.table}`);
  const journal = new Set(["rolemapping_changes", "rolemapping_checksum"]);
  const catalog = await loadCatalog(client, [
    ...trackedMappingTables(schema).filter((t) => (options.trackJournal ?? true) || !journal.has(t.table)),
    ...ports.map((port, i) => ({ schema: port.schema, table: port.table, name: portNames[i]! })),
  ]);
  const relationships = mappingRelationships(schema);
  for (const table of catalog) table.relationships = relationships.get(table.name) ?? [];
  const tables = new Map<string, TableInfo>(catalog.map((t) => [t.name, t]));
  const adminSchema = buildSchema(tables, { mutations: true });
  const sampleTables = new Map(portNames.map((name) => [name, tables.get(name)!]));
  const portFields = new Set(
    Object.keys(buildSchema(sampleTables, { mutations: false }).getQueryType()!.getFields()),
  );
  const roleSchemas = new Map<string, GraphQLSchema>();
  const rootFieldsTable = `${quoteIdent(schema)}.role_graphql_root_field_names`;

  // A role's permissions: the output ports' root fields among its names in the mapping tables.
  async function permitted(role: string): Promise<ReadonlySet<string>> {
    const rows = await client.query(
      `SELECT graphql_root_field_name FROM ${rootFieldsTable} WHERE role_id = $1 ORDER BY 1`,
      [role],
    );
    return new Set(rows.map((r) => String(r.graphql_root_field_name)).filter((name) => portFields.has(name)));
  }
  const inherited = new InheritedRoles(permitted);

  // A role may select what the mapping tables say it may; an inherited role what its parents may together.
  async function schemaFor(session: Session): Promise<GraphQLSchema> {
    if (session.role === "admin") return adminSchema;
    const allowed = (await inherited.fieldsOf(session.role)) ?? (await permitted(session.role));
    const key = [...allowed].sort().join("\n");
    let roleSchema = roleSchemas.get(key);
    if (!roleSchema) {
      roleSchema = buildSchema(sampleTables, {
        mutations: false,
        allowQueryField: (name) => allowed.has(name),
      });
      roleSchemas.set(key, roleSchema);
    }
    return roleSchema;
  }

  let requests = 0;
  let inFlight = 0;
  async function handleGraphQL(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readBody(req));
    } catch (error) {
      if (error instanceof HasuraError) throw error;
      throw new HasuraError("invalid-json", "Error in $: not a valid json value", "$", 400);
    }
    const body = readRequestBody(parsed);
    const session = await authenticate(options, req.headers, body);
    const roleSchema = await schemaFor(session);
    const document = parseAndValidate(roleSchema, body.query);
    return {
      status: 200,
      body: { data: await executeInTransaction(client, tables, roleSchema, document, body, session) },
    };
  }

  const metadataCalls = new Map<string, number>();
  async function handleMetadata(req: IncomingMessage): Promise<unknown> {
    const secret = req.headers["x-hasura-admin-secret"];
    if (secret !== options.adminSecret) throw new HasuraError("access-denied", "restricted access", "$", 400);
    let body: { type?: unknown; args?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      throw metadataError("invalid-json", "Error in $: not a valid json value");
    }
    const type = String(body.type);
    metadataCalls.set(type, (metadataCalls.get(type) ?? 0) + 1);
    if (type === "export_metadata")
      return { version: 3, sources: [{ name: "default", kind: "postgres" }], ...inherited.exported() };
    if (type === "add_inherited_role") await inherited.add(body.args);
    else if (type === "drop_inherited_role") inherited.drop(body.args);
    else throw metadataError("parse-failed", `unknown metadata command "${type}"`);
    return { message: "success" };
  }

  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/healthz") return send(res, 200, "OK");
    if (req.method === "POST" && path === "/v1/metadata") {
      handleMetadata(req).then(
        (answer) => send(res, 200, answer),
        (error: unknown) => {
          const e =
            error instanceof HasuraError ? error : new HasuraError("unexpected", "internal error", "$", 500);
          send(res, e.status === 200 ? 400 : e.status, { path: e.path, error: e.message, code: e.code });
        },
      );
      return;
    }
    if (req.method !== "POST" || path !== "/v1/graphql") {
      return send(res, 404, { path: "$", error: "resource does not exist", code: "not-found" });
    }
    requests++;
    inFlight++;
    handleGraphQL(req)
      .finally(() => inFlight--)
      .then(
        (answer) => send(res, answer.status, answer.body),
        (error: unknown) => {
          const hasuraError =
            error instanceof HasuraError ? error : new HasuraError("unexpected", "internal error", "$", 500);
          send(res, hasuraError.status, { errors: [hasuraError.toBody()] });
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve);
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}/v1/graphql`,
    metadataUrl: `http://${host}:${address.port}/v1/metadata`,
    requestCount: () => requests,
    inFlight: () => inFlight,
    metadataCalls: () => metadataCalls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": typeof body === "string" ? "text/plain" : "application/json" });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HasuraError("invalid-json", "request body too large", "$", 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
