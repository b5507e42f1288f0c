import { TRUST_MARGIN_MS } from "../hasura-metadata/combined-role-uses.js";
import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

/** COMBINED_ROLES=hasura: combined roles kept as Hasura inherited roles through its metadata API. */
export interface CombinedRolesConfig {
  /** Most parents of one combined role (COMBINED_ROLE_MAX_PARENTS). */
  readonly maxParents: number;
  /** Most combined roles kept in Hasura's metadata (COMBINED_ROLE_MAX). */
  readonly maxRoles: number;
  /** The name prefix of every combined role, and of those the sidecar owns in the metadata (COMBINED_ROLE_PREFIX). */
  readonly prefix: string;
  /** Longest a request waits for a missing combined role to be created (COMBINED_ROLE_CREATE_TIMEOUT_MS). */
  readonly createTimeoutMs: number;
  /** Hasura's metadata API (HASURA_METADATA_URL, default GRAPHQL_URL with path /v1/metadata). */
  readonly metadataUrl: string;
  /** GRAPHQL_ADMIN_SECRET: the metadata API takes only the admin. */
  readonly adminSecret: string;
  /** Combined roles unused this long on every replica are dropped; 0 keeps them (COMBINED_ROLE_IDLE_S). */
  readonly idleMs: number;
}

/** The shortest COMBINED_ROLE_IDLE_S: replicas' clocks and the trust margin (5 minutes) must not matter. */
const MIN_IDLE_S = 3_600;

// A Hasura role name is any non-empty text; the prefix is kept to what reads well in a header and a log.
const PREFIX = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Reads the COMBINED_ROLE* variables; undefined when COMBINED_ROLES is off (the default). `refreshMs` is
 * SNAPSHOT_REFRESH_S, the period at which each replica records its uses.
 */
export function readCombinedRoles(
  env: EnvReader,
  graphqlUrl: string | undefined,
  refreshMs: number,
): CombinedRolesConfig | undefined {
  const d = DEFAULTS.combinedRoles;
  const mode = env.oneOf("COMBINED_ROLES", ["off", "hasura"], "off");
  const maxParents = env.int("COMBINED_ROLE_MAX_PARENTS", d.maxParents, 2, 32);
  const maxRoles = env.int("COMBINED_ROLE_MAX", d.maxRoles, 1, 100_000);
  const prefix = env.string("COMBINED_ROLE_PREFIX", d.prefix);
  if (!PREFIX.test(prefix)) {
    env.fail("COMBINED_ROLE_PREFIX", "expected a letter or _ then up to 63 of A-Z a-z 0-9 _ -", prefix, 0);
  }
  const createTimeoutMs = env.int("COMBINED_ROLE_CREATE_TIMEOUT_MS", d.createTimeoutMs, 100, 60_000);
  const idleS = readIdleS(env, mode === "hasura" ? refreshMs : undefined);
  const metadataUrl = env.url("HASURA_METADATA_URL") ?? metadataUrlOf(graphqlUrl);
  const adminSecret = env.raw("GRAPHQL_ADMIN_SECRET");
  if (mode === "off") return undefined;
  if (metadataUrl === undefined) {
    env.fail("HASURA_METADATA_URL", "or GRAPHQL_URL is required with COMBINED_ROLES=hasura", undefined, 0);
  }
  if (adminSecret === undefined) {
    env.fail("GRAPHQL_ADMIN_SECRET", "required with COMBINED_ROLES=hasura (the metadata API)", undefined, 0);
  }
  if (metadataUrl === undefined || adminSecret === undefined) return undefined;
  return { maxParents, maxRoles, prefix, createTimeoutMs, metadataUrl, adminSecret, idleMs: idleS * 1000 };
}

// A replica answers a role until its last recorded use + idle − the trust margin, and records its uses once per
// refresh: with a shorter idle period its trust would lapse between two rounds, and uses would wait for the ledger.
function readIdleS(env: EnvReader, refreshMs: number | undefined): number {
  const idleS = env.int("COMBINED_ROLE_IDLE_S", DEFAULTS.combinedRoles.idleS, 0, 31_536_000);
  if (idleS > 0 && idleS < MIN_IDLE_S) {
    env.fail(
      "COMBINED_ROLE_IDLE_S",
      `expected 0 (keep them) or ${MIN_IDLE_S} to 31536000 seconds`,
      String(idleS),
      0,
    );
  } else if (refreshMs !== undefined && idleS > 0 && idleS * 1000 <= TRUST_MARGIN_MS + refreshMs) {
    const floorS = (TRUST_MARGIN_MS + refreshMs) / 1000;
    env.fail(
      "COMBINED_ROLE_IDLE_S",
      `expected 0 (keep them) or more than ${floorS} seconds: the trust margin (${TRUST_MARGIN_MS / 1000} s) ` +
        `plus SNAPSHOT_REFRESH_S (${refreshMs / 1000} s)`,
      String(idleS),
      0,
    );
  }
  return idleS;
}

// Hasura serves its metadata API beside GraphQL: same origin, path /v1/metadata.
function metadataUrlOf(graphqlUrl: string | undefined): string | undefined {
  if (graphqlUrl === undefined) return undefined;
  const url = new URL(graphqlUrl);
  url.pathname = "/v1/metadata";
  url.search = "";
  return url.toString();
}
