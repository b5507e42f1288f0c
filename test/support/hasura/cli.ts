/**
 * Runs the Hasura stand-in alone:
 *   npm run hasura:emulator -- --port 8080 --admin-secret S --auth-hook URL [--database-url URL] [--schema rolemapping]
 * Without --database-url the data lives in an in-memory PGlite and is gone on exit.
 */
import { parseArgs } from "node:util";
import { openPgClient } from "../../../src/store/pg-client.js";
import { openPgliteClient } from "../../../src/store/pglite-client.js";
import { startHasuraStandIn } from "./server.js";

const USAGE =
  "usage: hasura:emulator -- --port 8080 --admin-secret S [--auth-hook URL] [--database-url URL] [--schema rolemapping] [--host 127.0.0.1]";

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      "admin-secret": { type: "string" },
      "auth-hook": { type: "string" },
      "database-url": { type: "string" },
      schema: { type: "string", default: "rolemapping" },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535)
  fail(`--port: expected 0..65535, got "${values.port}"`);
const adminSecret = values["admin-secret"] ?? process.env.HASURA_GRAPHQL_ADMIN_SECRET;
if (!adminSecret) fail("--admin-secret (or HASURA_GRAPHQL_ADMIN_SECRET) is required");
const authHook = values["auth-hook"];
if (authHook !== undefined && !URL.canParse(authHook)) fail(`--auth-hook: not a URL`);

const databaseUrl = values["database-url"];
const client = databaseUrl
  ? openPgClient({ connectionString: databaseUrl })
  : await openPgliteClient(undefined);
const standIn = await startHasuraStandIn({
  client,
  adminSecret,
  authHook,
  port,
  host: values.host,
  schema: values.schema,
});
console.log(
  `Hasura stand-in on ${standIn.url} (schema ${values.schema}, ${databaseUrl ? "PostgreSQL" : "in-memory PGlite"}` +
    `${authHook ? `, auth hook ${authHook}` : ""})`,
);

async function shutdown(): Promise<void> {
  await standIn.close();
  await client.close();
  process.exit(0);
}
process.once("SIGINT", () => void shutdown());
process.once("SIGTERM", () => void shutdown());
