import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

const GROUP_TYPE = "#microsoft.graph.group";

/** A directory object as transitiveMemberOf returns it. */
export interface DirectoryObject {
  "@odata.type": string;
  id: string;
  displayName: string | null;
}

/** A group object. */
export function group(displayName: string | null, id: string = randomUUID()): DirectoryObject {
  return { "@odata.type": GROUP_TYPE, id, displayName };
}

/** A directory role (transitiveMemberOf lists these too; they are not groups). */
export function directoryRole(displayName: string): DirectoryObject {
  return { "@odata.type": "#microsoft.graph.directoryRole", id: randomUUID(), displayName };
}

/** A canned failure answer. */
export interface Fault {
  status: number;
  retryAfter?: string;
}

/**
 * Microsoft identity platform token endpoint plus Microsoft Graph transitiveMemberOf and the `/groups` name
 * filter, on 127.0.0.1: pages, throttling with Retry-After, 5xx storms, token expiry and call counters. Groups
 * are those listed in memberships plus those created with createGroup(); two may share one display name.
 */
export class GraphStandIn {
  readonly tenantId = "72f988bf-86f1-41af-91ab-2d7cd011db47";
  readonly clientId = "11111111-2222-4333-8444-555555555555";
  readonly clientSecret = "stand-in-secret";
  /** Memberships by user object id. */
  readonly users = new Map<string, DirectoryObject[]>();
  /** Groups with no member yet (createGroup), by id; groups in memberships exist as well. */
  private readonly created = new Map<string, DirectoryObject>();
  /** `/groups` requests received (every page and retry). */
  groupLookups = 0;
  /** Objects per page (Graph's own limit is $top). */
  pageSize = 999;
  /** Seconds a token lives (expires_in). */
  tokenLifetimeS = 3600;
  /** Answers queued for the next Graph requests, one each. */
  readonly faults: Fault[] = [];
  /** When set, every Graph request gets this status. */
  storm: number | undefined;
  /** When true, Graph requests are never answered (timeouts). */
  hang = false;
  /** When set, replaces the host of nextLink (to test that foreign links are refused). */
  nextLinkOrigin: string | undefined;
  /** Token requests received. */
  tokenRequests = 0;
  /** Graph requests received (every page and retry). */
  graphRequests = 0;
  /** Listings started (first-page requests that were answered 200). */
  listings = 0;
  /** Scopes asked for in the last token request. */
  lastScope: string | undefined;
  private readonly validTokens = new Set<string>();
  private readonly server = createServer((req, res) => {
    void this.handle(req, res).catch(() => res.writeHead(500).end());
  });

  private constructor() {}

  /** Starts the stand-in on an ephemeral port. */
  static async start(): Promise<GraphStandIn> {
    const standIn = new GraphStandIn();
    await new Promise<void>((resolve) => standIn.server.listen(0, "127.0.0.1", resolve));
    return standIn;
  }

  /** Base URL; use it as the authority host. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The Graph base URL (GRAPH_BASE_URL). */
  get graphBaseUrl(): string {
    return `${this.url}/v1.0`;
  }

  /** Where and as whom createAzureGraph reaches this stand-in: its app credentials, authority and Graph URLs. */
  get connection() {
    return {
      tenantId: this.tenantId,
      clientId: this.clientId,
      clientSecret: this.clientSecret,
      authorityHost: this.url,
      graphBaseUrl: this.graphBaseUrl,
    };
  }

  /** Creates a group (Entra lets any user do so, and does not keep display names unique). */
  createGroup(displayName: string, id: string = randomUUID()): DirectoryObject {
    const created = group(displayName, id);
    this.created.set(id, created);
    return created;
  }

  /** Adds `member` to the user's memberships (creating the user's entry when needed). */
  addMember(oid: string, member: DirectoryObject): void {
    this.users.set(oid, [...(this.users.get(oid) ?? []), member]);
  }

  /** Deletes a group: gone from the directory and from every membership. */
  deleteGroup(id: string): void {
    this.created.delete(id);
    for (const [oid, objects] of this.users)
      this.users.set(
        oid,
        objects.filter((o) => o.id !== id),
      );
  }

  /** Every group of the directory, by id. */
  private groups(): Map<string, DirectoryObject> {
    const all = new Map(this.created);
    for (const objects of this.users.values()) {
      for (const object of objects) if (object["@odata.type"] === GROUP_TYPE) all.set(object.id, object);
    }
    return all;
  }

  /** Makes every token issued so far invalid, as if it had expired or been revoked. */
  expireTokens(): void {
    this.validTokens.clear();
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    if (req.method === "POST" && url.pathname === `/${this.tenantId}/oauth2/v2.0/token`) {
      return this.token(await readBody(req), res);
    }
    const match = /^\/v1\.0\/users\/([^/]+)\/transitiveMemberOf$/.exec(url.pathname);
    if (req.method === "GET" && match?.[1]) return this.memberOf(decodeURIComponent(match[1]), url, req, res);
    if (req.method === "GET" && url.pathname === "/v1.0/groups") return this.groupsByName(url, req, res);
    json(res, 404, { error: { code: "Request_ResourceNotFound" } });
  }

  private token(body: string, res: ServerResponse): void {
    this.tokenRequests += 1;
    const form = new URLSearchParams(body);
    this.lastScope = form.get("scope") ?? undefined;
    if (form.get("grant_type") !== "client_credentials")
      return json(res, 400, { error: "unsupported_grant_type" });
    if (form.get("client_id") !== this.clientId || form.get("client_secret") !== this.clientSecret) {
      return json(res, 401, {
        error: "invalid_client",
        error_description: "AADSTS7000215: Invalid client secret",
      });
    }
    const accessToken = `graph-token-${this.tokenRequests}`;
    this.validTokens.add(accessToken);
    json(res, 200, { token_type: "Bearer", expires_in: this.tokenLifetimeS, access_token: accessToken });
  }

  private memberOf(oid: string, url: URL, req: IncomingMessage, res: ServerResponse): void {
    this.graphRequests += 1;
    if (!this.admitted(req, res)) return;
    const objects = this.users.get(oid);
    if (!objects) return json(res, 404, { error: { code: "Request_ResourceNotFound" } });
    if ((url.searchParams.get("$skiptoken") ?? "0") === "0") this.listings += 1;
    this.page(objects, url, res);
  }

  // `$filter=displayName eq '<literal>'` (quotes doubled inside), as Graph reads it; matched regardless of case,
  // as Entra compares directory strings.
  private groupsByName(url: URL, req: IncomingMessage, res: ServerResponse): void {
    this.graphRequests += 1;
    this.groupLookups += 1;
    if (!this.admitted(req, res)) return;
    const filter = /^displayName eq '((?:[^']|'')*)'$/.exec(url.searchParams.get("$filter") ?? "");
    if (!filter || url.searchParams.get("$select") !== "id,displayName") {
      return json(res, 400, { error: { code: "Request_UnsupportedQuery" } });
    }
    const name = filter[1]!.replaceAll("''", "'").toLowerCase();
    const found = [...this.groups().values()].filter((g) => g.displayName?.toLowerCase() === name);
    this.page(
      found.map((g) => ({ id: g.id, displayName: g.displayName })),
      url,
      res,
    );
  }

  // The token check, then a hang, a storm or a queued fault; false when the request was answered (or left).
  private admitted(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.hang) return false;
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || !this.validTokens.has(auth.slice(7))) {
      json(res, 401, { error: { code: "InvalidAuthenticationToken", message: "Access token has expired" } });
      return false;
    }
    const fault = this.storm !== undefined ? { status: this.storm } : this.faults.shift();
    if (fault) {
      if (fault.retryAfter !== undefined) res.setHeader("Retry-After", fault.retryAfter);
      json(res, fault.status, { error: { code: fault.status === 429 ? "TooManyRequests" : "ServiceError" } });
      return false;
    }
    return true;
  }

  private page(objects: readonly object[], url: URL, res: ServerResponse): void {
    const skip = Number(url.searchParams.get("$skiptoken") ?? "0");
    const size = Math.min(this.pageSize, Number(url.searchParams.get("$top") ?? "100"));
    const page = objects.slice(skip, skip + size);
    const body: Record<string, unknown> = { "@odata.context": `${this.graphBaseUrl}/$metadata`, value: page };
    if (skip + size < objects.length) {
      const next = new URL(url.href);
      next.searchParams.set("$skiptoken", String(skip + size));
      body["@odata.nextLink"] = (this.nextLinkOrigin ?? this.url) + next.pathname + next.search;
    }
    json(res, 200, body);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
