/**
 * Which source files one request runs code of: `npx tsx test/bench/request-paths.ts [--store postgres|embedded]`.
 *
 * A whole sidecar runs in this process under V8's precise coverage (call counts per function). Each path is
 * warmed first, then the counters are reset, exactly one request is sent and answered, and the files under `src/`
 * with at least one function called are read off. Each path is measured five times and only the files seen every
 * time are kept, so that a timer firing during one window (a snapshot poll) does not count. Listed per path:
 * a warm webhook decision (token verified before), a cold one (a new token), a gRPC SetUserRoles and the same
 * write over REST. For the writes also "the way in": the files run from the request's arrival until the store's
 * setUserRoles is called (coverage read at that call), and the files on the stack there (async frames included);
 * for the webhook the same up to the decision proper: until the authorizer asks for the snapshot to decide with,
 * the caller verified and the operation analysed. The last line is one JSON object.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { Session } from "node:inspector";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { credentials } from "@grpc/grpc-js";
import { loadConfig } from "../../src/config/index.js";
import { SnapshotSync } from "../../src/core/snapshot-sync.js";
import { RoleMappingServiceClient } from "../../src/grpc/gen/rolemapper/v1/rolemapper.js";
import { openStore } from "../../src/wiring/store.js";
import type { RoleMappingStore } from "../../src/core/store-port.js";
import { startSidecar } from "../../src/wiring/start.js";
import { bearer, promiseApi } from "../grpc/client.js";
import { openTestDatabase, type TestDatabase } from "../support/databases.js";
import { JwksIssuer } from "../support/jwks-issuer.js";
import { RecordingLogger } from "../support/recording-logger.js";

const API_TOKEN = "request-paths-token-0123456789";
const RUNS = 5;
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

interface ScriptCoverage {
  readonly url: string;
  readonly functions: readonly { readonly ranges: readonly { readonly count: number }[] }[];
}

const { values } = parseArgs({ options: { store: { type: "string", default: "postgres" } } });
const session = new Session();
session.connect();
// A session on this thread answers at once: the callbacks run before post() returns.
const post = (method: string, params?: object): unknown => {
  let answer: unknown;
  session.post(method, params ?? {}, (error, result) => {
    if (error) throw error;
    answer = result;
  });
  return answer;
};
post("Profiler.enable");
post("Profiler.startPreciseCoverage", { callCount: true, detailed: false });

// The source files with a function called since the last reading (a reading resets the counters).
function filesCalled(): Set<string> {
  const { result } = post("Profiler.takePreciseCoverage") as { result: ScriptCoverage[] };
  const files = new Set<string>();
  for (const script of result) {
    if (!script.url.startsWith("file://")) continue;
    const path = relative(ROOT, fileURLToPath(script.url));
    if (!path.startsWith("src/")) continue;
    if (script.functions.some((fn) => (fn.ranges[0]?.count ?? 0) > 0)) files.add(path);
  }
  return files;
}

// The source files named by the frames of the current stack, async frames included.
function filesOnStack(): Set<string> {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const files = new Set<string>();
  for (const match of stack.matchAll(/file:\/\/([^:)]+)|\((\/[^:)]+)/g)) {
    const path = relative(ROOT, match[1] ?? match[2] ?? "");
    if (path.startsWith("src/")) files.add(path);
  }
  return files;
}

// What the last request saw on its way in: read when the store's setUserRoles is called (a write), or when the
// authorizer asks for the snapshot (a decision).
interface WayIn {
  readonly ran: Set<string>;
  readonly stack: Set<string>;
}
let seenOnWayIn: WayIn | undefined;
const recordWayIn = (): void => {
  seenOnWayIn ??= { ran: filesCalled(), stack: filesOnStack() };
};
function recordingStore(store: RoleMappingStore): RoleMappingStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property !== "setUserRoles" || typeof value !== "function") return value;
      return (...args: unknown[]) => {
        recordWayIn();
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

// Patched before the sidecar is built: the authorizer holds `fresh` bound at build time.
const fresh = SnapshotSync.prototype.fresh;
SnapshotSync.prototype.fresh = function (this: SnapshotSync) {
  recordWayIn();
  return fresh.call(this);
};

// The files every one of RUNS single requests ran code of, and those on its way in (see recordWayIn).
async function measured(send: (run: number) => Promise<void>) {
  await send(-1);
  const seen = { answered: [] as Set<string>[], ran: [] as Set<string>[], stack: [] as Set<string>[] };
  for (let run = 0; run < RUNS; run++) {
    filesCalled();
    seenOnWayIn = undefined;
    await send(run);
    const wayIn = seenOnWayIn as WayIn | undefined; // set by the request, which TypeScript cannot see
    const files = filesCalled();
    // Reading the counters at the write reset them: up to the write, plus from there on, is the whole request.
    seen.answered.push(new Set([...(wayIn?.ran ?? []), ...files]));
    if (wayIn) {
      seen.ran.push(wayIn.ran);
      seen.stack.push(wayIn.stack);
    }
  }
  const common = (sets: Set<string>[]) =>
    sets.length === 0 ? [] : [...sets.reduce((a, b) => new Set([...a].filter((file) => b.has(file))))].sort();
  return { answered: common(seen.answered), wayIn: common(seen.ran), stack: common(seen.stack) };
}

const issuer = await JwksIssuer.start();
const dataDir = mkdtempSync(join(tmpdir(), "rolemapper-paths-"));
let database: TestDatabase | undefined;
const env: Record<string, string> = {
  JWKS_URL: issuer.jwksUrl,
  JWT_AUDIENCE: issuer.audience,
  JWT_ISSUER: issuer.url,
  ROLEMAPPER_API_TOKENS: `provisioner:${API_TOKEN}`,
  ROLEMAPPING_DATA_DIR: dataDir,
  WEBHOOK_PORT: "0",
  ADMIN_HTTP_PORT: "0",
  GRPC_PORT: "0",
  METRICS_PORT: "0",
  LOG_LEVEL: "info",
  // Polls as seldom as allowed and no notifications: what runs in a window is the request's own work.
  SNAPSHOT_MAX_LAG_S: "600",
  SNAPSHOT_LISTEN: "false",
};
if (values.store === "postgres") {
  database = await openTestDatabase("postgres");
  Object.assign(env, {
    ROLEMAPPING_STORE: "postgres",
    DATABASE_URL: database.url,
    ROLEMAPPING_MIGRATE: "true",
  });
} else {
  Object.assign(env, { ROLEMAPPING_STORE: "embedded" });
}
const config = loadConfig(env);
const logger = new RecordingLogger().pino;
const sidecar = await startSidecar(config, logger, {
  store: recordingStore(await openStore(config.store, logger)),
});
const ports = sidecar.ports();
const client = new RoleMappingServiceClient(`127.0.0.1:${ports.grpcPort}`, credentials.createInsecure());
const api = promiseApi(client, bearer(API_TOKEN));
await api.upsertRole({ roleId: "sales", componentId: "urn:sales", graphqlRootFieldNames: ["orders"] });
await api.setUserRoles({ roleId: "sales", users: ["user:alice_corp.com"] });

const webhook = `http://127.0.0.1:${ports.webhookPort}/v1/authenticate`;
const decide = async (token: string) => {
  const response = await fetch(webhook, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      headers: { Authorization: `Bearer ${token}` },
      request: { query: "{ orders { id } }" },
    }),
  });
  if (response.status !== 200) throw new Error(`decision answered ${response.status}`);
  await response.arrayBuffer();
};
const warmToken = await issuer.sign({ unique_name: "alice@corp.com" });
const coldTokens = await Promise.all(
  Array.from({ length: RUNS + 1 }, (_, i) =>
    issuer.sign({ unique_name: "alice@corp.com", jti: `cold-${i}` }),
  ),
);
const users = (run: number) => ["user:alice_corp.com", `user:u${run + 1}_corp.com`];

const grpcWrite = await measured(async (run) => {
  await api.setUserRoles({ roleId: "sales", users: users(run) });
});
const restWrite = await measured(async (run) => {
  const response = await fetch(`http://127.0.0.1:${ports.adminPort}/v1/user_roles`, {
    method: "PUT",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ role_id: "sales", users: users(run + 10) }),
  });
  if (response.status !== 200) throw new Error(`PUT /v1/user_roles answered ${response.status}`);
  await response.arrayBuffer();
});
const warm = await measured(() => decide(warmToken));
const cold = await measured((run) => decide(coldTokens[run + 1] ?? ""));
const paths = {
  webhookWarm: warm.answered,
  webhookWarmWayIn: warm.wayIn,
  webhookCold: cold.answered,
  webhookColdWayIn: cold.wayIn,
  grpcSetUserRoles: grpcWrite.answered,
  grpcSetUserRolesWayIn: grpcWrite.wayIn,
  grpcSetUserRolesStack: grpcWrite.stack,
  restSetUserRoles: restWrite.answered,
  restSetUserRolesWayIn: restWrite.wayIn,
  restSetUserRolesStack: restWrite.stack,
};

client.close();
await sidecar.stop(1000);
await database?.drop();
await issuer.close();
rmSync(dataDir, { recursive: true, force: true });
session.disconnect();
for (const [name, files] of Object.entries(paths)) {
  console.log(`${name}: ${files.length} files`);
  for (const file of files) console.log(`  ${file}`);
}
console.log(
  JSON.stringify({
    store: values.store,
    files: Object.fromEntries(Object.entries(paths).map(([name, files]) => [name, files.length])),
    paths,
  }),
);
