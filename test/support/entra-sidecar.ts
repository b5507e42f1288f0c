import { randomUUID } from "node:crypto";
import type { GraphStandIn } from "./graph-stand-in.js";
import type { JwksIssuer } from "./jwks-issuer.js";
import { API_TOKEN, type RunningSidecar } from "./sidecar-harness.js";

/** Variables of a sidecar taking Entra tokens signed by `issuer` and groups from the Graph stand-in. */
export function entraEnv(issuer: JwksIssuer, graph: GraphStandIn): Record<string, string> {
  return {
    AZURE_TENANT_ID: graph.tenantId,
    AZURE_CLIENT_ID: graph.clientId,
    AZURE_CLIENT_SECRET: graph.clientSecret,
    AZURE_AUTHORITY_HOST: graph.url,
    GRAPH_BASE_URL: graph.graphBaseUrl,
    JWT_ISSUER: `https://sts.windows.net/${graph.tenantId}/`,
    JWT_AUDIENCE: issuer.audience,
    USER_CLAIM: "unique_name",
  };
}

/** An Entra user: its object id and sign-in name. */
export interface EntraUser {
  readonly oid: string;
  readonly name: string;
}

/** A new user of the stand-in's tenant. */
export function entraUser(name: string): EntraUser {
  return { oid: randomUUID(), name: `${name}@contoso.com` };
}

/** A v1 access token of `user` for the sidecar; `groups` puts object ids in the token's own groups claim. */
export function entraToken(
  issuer: JwksIssuer,
  graph: GraphStandIn,
  user: EntraUser,
  groups?: readonly string[],
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return issuer.sign(
    {
      iss: `https://sts.windows.net/${graph.tenantId}/`,
      aud: issuer.audience,
      tid: graph.tenantId,
      oid: user.oid,
      unique_name: user.name,
      ver: "1.0",
      iat: now,
      nbf: now,
      exp: now + 600,
      ...(groups ? { groups } : {}),
    },
    { bare: true },
  );
}

/** The sidecar's REST API with the test token: PUT a JSON body, answered with status and JSON body. */
export function restApi(running: RunningSidecar) {
  return async (path: string, body: unknown): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${running.adminUrl}${path}`, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as unknown };
  };
}

/** The sidecar's Prometheus metrics, as served. */
export async function scrape(running: RunningSidecar): Promise<string> {
  const response = await fetch(`${running.metricsUrl}/metrics`);
  return response.text();
}

/** A counter or gauge sample's value in a scrape (0 when absent); `series` is the name with its labels. */
export function sample(metrics: string, series: string): number {
  const line = metrics.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}
