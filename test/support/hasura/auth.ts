import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { HasuraError } from "./hasura-errors.js";
import type { GraphQLRequestBody } from "./execute.js";

/** The session a request runs as: the admin, or a role with its permissions. */
export interface Session {
  readonly role: string;
  readonly variables: Readonly<Record<string, string>>;
}

/** How requests prove who they are. */
export interface AuthOptions {
  readonly adminSecret: string;
  /** Hasura's `--auth-hook`, called in POST mode for requests without the admin secret. */
  readonly authHook?: string;
  readonly authHookTimeoutMs?: number;
  /** Hasura's `HASURA_GRAPHQL_AUTH_HOOK_SEND_REQUEST_BODY` (default true): false leaves `request` out of the body. */
  readonly authHookSendRequestBody?: boolean;
}

// Headers about this hop, not the client: Hasura does not pass them on to the hook.
const HOP_HEADERS = new Set(["content-length", "connection", "keep-alive", "transfer-encoding", "upgrade"]);

/** The session of a request: admin secret first, else the auth hook; Hasura's errors otherwise. */
export async function authenticate(
  options: AuthOptions,
  headers: IncomingHttpHeaders,
  body: GraphQLRequestBody,
): Promise<Session> {
  const secret = header(headers, "x-hasura-admin-secret");
  if (secret !== undefined) {
    if (!sameSecret(secret, options.adminSecret)) {
      throw new HasuraError("access-denied", "invalid x-hasura-admin-secret/x-hasura-access-key");
    }
    return { role: header(headers, "x-hasura-role") ?? "admin", variables: sessionHeaders(headers) };
  }
  if (options.authHook === undefined) {
    throw new HasuraError(
      "access-denied",
      "x-hasura-admin-secret/x-hasura-access-key required, but not found",
    );
  }
  const request = options.authHookSendRequestBody === false ? undefined : body;
  return callAuthHook(options.authHook, options.authHookTimeoutMs ?? 10_000, headers, request);
}

async function callAuthHook(
  url: string,
  timeoutMs: number,
  headers: IncomingHttpHeaders,
  body: GraphQLRequestBody | undefined,
): Promise<Session> {
  const forwarded: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_HEADERS.has(name))
      forwarded[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  // Hasura leaves the key out, rather than sending null, when told not to send the request.
  const request = body && {
    query: body.query,
    variables: body.variables ?? null,
    operationName: body.operationName ?? null,
  };
  let response: Response;
  let answer: unknown;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ headers: forwarded, request }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    answer = response.status === 200 ? await response.json() : undefined;
  } catch {
    throw new HasuraError("unexpected", "Invalid response from authorization hook", "$", 500);
  }
  if (response.status === 401) {
    throw new HasuraError("access-denied", "Authentication hook unauthorized this request");
  }
  if (response.status !== 200 || typeof answer !== "object" || answer === null) {
    throw new HasuraError("unexpected", "Invalid response from authorization hook", "$", 500);
  }
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(answer)) variables[name.toLowerCase()] = String(value);
  const role = variables["x-hasura-role"];
  if (role === undefined) {
    throw new HasuraError(
      "access-denied",
      "x-hasura-role session variable not found in the auth hook response",
    );
  }
  return { role, variables };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sessionHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith("x-hasura-") && name !== "x-hasura-admin-secret" && typeof value === "string") {
      variables[name] = value;
    }
  }
  return variables;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
