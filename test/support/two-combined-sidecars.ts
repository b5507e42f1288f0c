import type { CombinedRolesClock } from "../../src/wiring/combined-roles.js";
import { openTestDatabase } from "./databases.js";
import { freePort } from "./free-port.js";
import { startHasuraStandIn, type HasuraStandIn } from "./hasura/server.js";
import { JwksIssuer } from "./jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "./sidecar-harness.js";
import { grantAliceTwoOutputPorts } from "./two-port-grants.js";

/** Two sidecars with COMBINED_ROLES=hasura on one PostgreSQL store, Hasura (the stand-in) calling the first. */
export interface TwoCombinedSidecars {
  readonly issuer: JwksIssuer;
  readonly hasura: HasuraStandIn;
  readonly sidecars: readonly [RunningSidecar, RunningSidecar];
  /** The prefixed inherited roles of Hasura's metadata. */
  exported(): Promise<string[]>;
  /** Each sidecar's log lines of `event`, with the sidecar's index as `replica`. */
  lines(event: string): Record<string, unknown>[];
  close(): Promise<void>;
}

/**
 * Starts them, Alice granted one role per output port through the first (see grantAliceTwoOutputPorts). What was
 * started is stopped again, in reverse order, when a later step fails.
 */
export async function startTwoCombinedSidecars(
  secret: string,
  env: Record<string, string>,
  combinedRolesClock?: CombinedRolesClock,
): Promise<TwoCombinedSidecars> {
  const stops: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const stop of stops.splice(0).reverse()) await stop();
  };
  try {
    const db = await openTestDatabase("postgres");
    stops.push(() => db.drop());
    const issuer = await JwksIssuer.start();
    stops.push(() => issuer.close());
    const webhookPort = await freePort();
    const hasura = await startHasuraStandIn({
      client: db.client,
      adminSecret: secret,
      authHook: `http://127.0.0.1:${webhookPort}/v1/authenticate`,
      moreOutputPorts: [{ schema: "public", table: "output_port_orders" }],
    });
    stops.push(() => hasura.close());
    const common = {
      ...issuerEnv(issuer),
      DATABASE_URL: db.url ?? "",
      ROLEMAPPING_MIGRATE: "true",
      COMBINED_ROLES: "hasura",
      HASURA_METADATA_URL: hasura.metadataUrl,
      GRAPHQL_ADMIN_SECRET: secret,
      SNAPSHOT_MAX_LAG_S: "0.2",
      ...env,
    };
    const overrides = combinedRolesClock ? { combinedRolesClock } : {};
    const first = await startTestSidecar({ ...common, WEBHOOK_PORT: String(webhookPort) }, overrides);
    stops.push(() => first.stop());
    const second = await startTestSidecar(common, overrides);
    stops.push(() => second.stop());
    await grantAliceTwoOutputPorts(first.sidecar.service);
    return twoSidecars(issuer, hasura, secret, [first, second], close);
  } catch (error) {
    await close();
    throw error;
  }
}

function twoSidecars(
  issuer: JwksIssuer,
  hasura: HasuraStandIn,
  secret: string,
  sidecars: readonly [RunningSidecar, RunningSidecar],
  close: () => Promise<void>,
): TwoCombinedSidecars {
  return {
    issuer,
    hasura,
    sidecars,
    async exported() {
      const response = await fetch(hasura.metadataUrl, {
        method: "POST",
        headers: { "x-hasura-admin-secret": secret },
        body: JSON.stringify({ type: "export_metadata", args: {} }),
      });
      const body = (await response.json()) as { inherited_roles?: { role_name: string }[] };
      return (body.inherited_roles ?? []).map((role) => role.role_name);
    },
    lines: (event) =>
      sidecars.flatMap((sidecar, i) =>
        sidecar.log
          .lines()
          .filter((line) => line.event === event)
          .map((line) => ({ replica: i, ...line })),
      ),
    close,
  };
}
