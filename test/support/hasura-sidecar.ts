import { openPristinePglite } from "./pglite-template.js";
import type { SqlClient } from "../../src/store/sql-client.js";
import { freePort } from "./free-port.js";
import { startHasuraStandIn, type HasuraStandIn, type HasuraStandInOptions } from "./hasura/server.js";
import { JwksIssuer } from "./jwks-issuer.js";
import { issuerEnv, startTestSidecar, type RunningSidecar } from "./sidecar-harness.js";

/** What to start: the admin secret both sides share, more of the stand-in's options and the sidecar's env. */
export interface HasuraSidecarOptions {
  readonly adminSecret: string;
  readonly standIn?: Omit<HasuraStandInOptions, "client" | "adminSecret" | "authHook">;
  readonly env?: Record<string, string>;
}

/** The Hasura stand-in on a fresh PGlite database, calling a whole sidecar as its auth hook. */
export interface HasuraSidecar {
  readonly issuer: JwksIssuer;
  readonly client: SqlClient;
  readonly hasura: HasuraStandIn;
  readonly running: RunningSidecar;
  /** The sidecar's webhook as the stand-in calls it (for another stand-in in front of the same sidecar). */
  readonly authHook: string;
  /** Stops the sidecar, then the stand-in, the database and the issuer. */
  close(): Promise<void>;
}

/**
 * Client → Hasura (stand-in) → the sidecar's webhook, the sidecar keeping its mappings in that Hasura. What was
 * started is stopped again when a later step fails.
 */
export async function startHasuraSidecar(options: HasuraSidecarOptions): Promise<HasuraSidecar> {
  let issuer: JwksIssuer | undefined;
  let client: SqlClient | undefined;
  let hasura: HasuraStandIn | undefined;
  let running: RunningSidecar | undefined;
  const close = async (): Promise<void> => {
    await running?.stop();
    await hasura?.close();
    await client?.close();
    await issuer?.close();
  };
  try {
    issuer = await JwksIssuer.start();
    client = await openPristinePglite();
    const webhookPort = await freePort();
    const authHook = `http://127.0.0.1:${webhookPort}/v1/authenticate`;
    hasura = await startHasuraStandIn({
      ...options.standIn,
      client,
      adminSecret: options.adminSecret,
      authHook,
    });
    running = await startTestSidecar({
      ...issuerEnv(issuer),
      GRAPHQL_URL: hasura.url,
      GRAPHQL_ADMIN_SECRET: options.adminSecret,
      WEBHOOK_PORT: String(webhookPort),
      ...options.env,
    });
    return { issuer, client, hasura, running, authHook, close };
  } catch (error) {
    await close();
    throw error;
  }
}
