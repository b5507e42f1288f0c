import { parseReservedRoleIds, reservedRoleIds } from "../core/reserved-roles.js";
import { DEFAULTS } from "./defaults.js";
import { checked, type EnvReader } from "./env-reader.js";
import { readGrpc, readGrpcTls, type GrpcConfig } from "./grpc.js";

const MIB = 1024 * 1024;

/** How callers of the RoleMapping API authenticate. */
export interface ApiCredentialsConfig {
  readonly tokens: readonly string[];
  readonly tokensFile: string | undefined;
  readonly insecure: boolean;
}

/** The RoleMapping API: its credentials, its two listeners (REST and gRPC) and the bounds of a call. */
export interface ApiConfig {
  readonly api: ApiCredentialsConfig;
  readonly admin: { readonly host: string; readonly port: number; readonly bodyLimitBytes: number };
  readonly grpc: GrpcConfig;
  readonly limits: { readonly maxSubjects: number; readonly maxRootFields: number };
  /** Role ids never written through the API nor answered by the webhook; always includes `admin`. */
  readonly reservedRoleIds: readonly string[];
}

/** The host the API and metrics listeners bind unless told otherwise. */
export function defaultApiHost(devMode: boolean): string {
  // In development mode the API may run without credentials, so it listens on localhost only by default.
  return devMode ? DEFAULTS.apiHost.development : DEFAULTS.apiHost.otherwise;
}

/** Reads ROLEMAPPER_API_*, GRPC_*, ADMIN_*, the call bounds and RESERVED_ROLE_IDS. */
export function readApi(env: EnvReader, devMode: boolean): ApiConfig {
  const tls = readGrpcTls(env);
  const api = readCredentials(env, devMode, tls !== undefined);
  const host = defaultApiHost(devMode);
  const d = DEFAULTS;
  return {
    api,
    admin: {
      host: env.string("ADMIN_HTTP_HOST", host),
      port: env.port("ADMIN_HTTP_PORT", d.admin.port),
      bodyLimitBytes: env.int("ADMIN_BODY_LIMIT_BYTES", d.admin.bodyLimitBytes, 1024, 512 * MIB),
    },
    grpc: readGrpc(env, host, tls),
    limits: {
      maxSubjects: env.int("MAX_SUBJECTS_PER_CALL", d.limits.maxSubjects, 1, 10_000_000),
      maxRootFields: env.int("MAX_ROOT_FIELDS_PER_ROLE", d.limits.maxRootFields, 1, 100_000),
    },
    reservedRoleIds: checked(env, [...reservedRoleIds()], () =>
      parseReservedRoleIds(env.raw("RESERVED_ROLE_IDS")),
    ),
  };
}

// Outside development mode the API refuses to start open unless ROLEMAPPER_API_INSECURE says so.
function readCredentials(env: EnvReader, devMode: boolean, mutualTls: boolean): ApiCredentialsConfig {
  const tokens = (env.raw("ROLEMAPPER_API_TOKENS") ?? "")
    .split(",")
    .map((token) => token.trim())
    .filter((token) => token !== "");
  const tokensFile = env.raw("ROLEMAPPER_API_TOKENS_FILE");
  const insecure = env.bool("ROLEMAPPER_API_INSECURE", false);
  if (!devMode && tokens.length === 0 && !tokensFile && !mutualTls && !insecure) {
    env.fail(
      "ROLEMAPPER_API_TOKENS",
      "the RoleMapping API needs credentials: set ROLEMAPPER_API_TOKENS, ROLEMAPPER_API_TOKENS_FILE or the GRPC_TLS_* variables (or ROLEMAPPER_API_INSECURE=true to run it unauthenticated)",
      undefined,
      0,
    );
  }
  return { tokens, tokensFile, insecure };
}
