/**
 * A stand-in of the previous Python webhook (agile-lab-dev/witboost-hasura-auth-webhook-role-mapper), built from
 * its documented rules, for shadow-mode tests and the benchmark:
 * - the body is validated as its pydantic model: `headers` an object of strings, `request` one object with a
 *   string `query` — so `request: null` (a websocket's connection_init) and a batch get FastAPI's 422;
 * - the token comes from the first configured header present (names as given, exact case), `Bearer <token>`,
 *   verified against the JWKS; the user is `unique_name`, the groups the token's `groups` claim (the real one asks
 *   Microsoft Graph); any failure is 401;
 * - a document that does not parse is 400; any operation other than a query (a subscription too) is 401;
 * - the root fields are the fields selected directly by every definition, fragments included (spreads and inline
 *   fragments not followed); a role mapped to all of them and held by the caller is answered, the first in the
 *   mapping's order; `X-Hasura-Role` is not read.
 * It can hold its answers until released, to order events in tests.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Kind, parse, type DocumentNode } from "graphql";
import { createRemoteJWKSet, jwtVerify } from "jose";

/** The mapping the stand-in decides with, as the previous service's four tables hold it. */
export interface PreviousMapping {
  /** Roles in table order, each with its root fields. */
  readonly roles: readonly { readonly roleId: string; readonly rootFields: readonly string[] }[];
  /** Subjects (`user:…`, `group:…`) by role id. */
  readonly grants: Readonly<Record<string, readonly string[]>>;
}

/** Where it verifies tokens, and what it decides with. */
export interface PreviousServiceOptions {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: string;
  readonly mapping: PreviousMapping;
  /** AUTHORIZATION_HEADER_FIELD_NAMES; `["Authorization"]` by default. */
  readonly tokenHeaders?: readonly string[];
}

/** The running stand-in. */
export interface PreviousService {
  /** Its `/v1/authenticate`. */
  readonly url: string;
  /** Webhook calls received so far. */
  readonly received: () => number;
  /** Holds every answer from now on until the returned function is called. */
  hold(): () => void;
  close(): Promise<void>;
}

type Answer = { status: number; body: unknown };
const UNAUTHORIZED: Answer = { status: 401, body: "Unauthorized" };

/** Starts the stand-in on 127.0.0.1 and an ephemeral port. */
export async function startPreviousService(options: PreviousServiceOptions): Promise<PreviousService> {
  const decide = previousDecider(options);
  let received = 0;
  let gate: Promise<void> = Promise.resolve();
  const server = createServer((req, res) => {
    received++;
    const held = gate;
    void readBody(req)
      .then(decide)
      .catch((): Answer => ({ status: 500, body: { error: "System error" } }))
      .then(async (answer) => {
        await held;
        send(res, answer);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/authenticate`,
    received: () => received,
    hold() {
      let release = () => undefined as void;
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = Promise.resolve();
        release();
      };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** The previous service's decision for one body, as a function (the benchmark's stand-in runs it too). */
export function previousDecider(options: PreviousServiceOptions): (body: string) => Promise<Answer> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const tokenHeaders = options.tokenHeaders ?? ["Authorization"];
  const { roles, grants } = options.mapping;
  return async (raw) => {
    const body = validated(raw);
    if ("status" in body) return body;
    const header = tokenHeaders.map((name) => body.headers[name]).find((value) => value !== undefined);
    const [scheme, token] = header?.split(" ") ?? [];
    if (scheme !== "Bearer" || !token) return UNAUTHORIZED;
    let user: string, groups: string[];
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
      });
      user = `user:${String(payload.unique_name).replace("@", "_")}`;
      groups = ((payload.groups as string[] | undefined) ?? []).map((group) => `group:${group}`);
    } catch {
      return UNAUTHORIZED;
    }
    let document: DocumentNode;
    try {
      document = parse(body.query);
    } catch (error) {
      return { status: 400, body: { errors: [`Graphql query has one or more errors. ${String(error)}`] } };
    }
    if (document.definitions.some((d) => d.kind === Kind.OPERATION_DEFINITION && d.operation !== "query"))
      return UNAUTHORIZED;
    const subjects = new Set([user, ...groups]);
    const held = new Set(roles.filter((r) => (grants[r.roleId] ?? []).some((s) => subjects.has(s))));
    if (held.size === 0) return UNAUTHORIZED;
    const fields = directFields(document);
    // Its roles come from the rows of the selected fields: no field, no row, no role.
    if (fields.length === 0) return UNAUTHORIZED;
    const role = roles.find((r) => held.has(r) && fields.every((field) => r.rootFields.includes(field)));
    return role
      ? { status: 200, body: { "X-Hasura-User-Id": user, "X-Hasura-Role": role.roleId } }
      : UNAUTHORIZED;
  };
}

// Pydantic's checks of AuthenticationRequest: FastAPI answers 422 with {"detail": [...]} when they fail.
function validated(raw: string): { headers: Record<string, string>; query: string } | Answer {
  const invalid = (msg: string): Answer => ({ status: 422, body: { detail: [{ msg }] } });
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return invalid("JSON decode error");
  }
  const { headers, request } = (body ?? {}) as { headers?: unknown; request?: unknown };
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) return invalid("headers");
  if (!Object.values(headers).every((value) => typeof value === "string")) return invalid("headers");
  if (typeof request !== "object" || request === null || Array.isArray(request)) return invalid("request");
  const { query } = request as { query?: unknown };
  if (typeof query !== "string") return invalid("request.query");
  return { headers: headers as Record<string, string>, query };
}

function directFields(document: DocumentNode): string[] {
  const fields: string[] = [];
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION && definition.kind !== Kind.FRAGMENT_DEFINITION)
      continue;
    for (const selection of definition.selectionSet.selections) {
      if (selection.kind === Kind.FIELD) fields.push(selection.name.value);
    }
  }
  return fields;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify(answer.body));
}
