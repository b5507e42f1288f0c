import { DEFAULTS } from "../config/defaults.js";
import type { GroupProvider } from "../core/identity.js";
import { MAX_ID_LENGTH } from "../core/mapping.js";
import { readClaimPath } from "./claims-path.js";
import { rejectToken } from "./token-reasons.js";

/** Where the groups claim is and how many groups one token may carry. */
export interface ClaimsGroupsOptions {
  /** Claim name or dotted path (GROUPS_CLAIM; default `groups`). */
  readonly claim?: string;
  /** Most groups accepted from one token (default 1000); more is refused rather than silently cut. */
  readonly maxGroups?: number;
}

const MAX_GROUP_NAME = MAX_ID_LENGTH - "group:".length;

/**
 * Groups read from a claim of the verified token. A missing claim means no groups. A single string counts as
 * one group (ADFS emits one that way). Anything else that is not a list of non-empty strings is refused with
 * `groups_claim_invalid`: a malformed claim could hide a group and silently change who gets what.
 */
export function createClaimsGroupProvider(options: ClaimsGroupsOptions = {}): GroupProvider {
  const claim = options.claim ?? DEFAULTS.groups.claim;
  const maxGroups = options.maxGroups ?? 1000;
  return {
    claimsOnly: true,
    async groupsOf(claims) {
      return groupsFromClaim(readClaimPath(claims, claim), claim, maxGroups);
    },
  };
}

/** Validates a groups claim value into distinct group names. */
export function groupsFromClaim(value: unknown, claim: string, maxGroups: number): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list)) throw rejectToken("groups_claim_invalid", `the "${claim}" claim is not a list`);
  if (list.length > maxGroups) {
    throw rejectToken("groups_claim_too_large", `the "${claim}" claim has more than ${maxGroups} groups`);
  }
  const groups = new Set<string>();
  for (const item of list) {
    if (typeof item !== "string" || item.length === 0 || item.length > MAX_GROUP_NAME) {
      throw rejectToken(
        "groups_claim_invalid",
        `the "${claim}" claim holds a value that is not a group name`,
      );
    }
    groups.add(item);
  }
  return [...groups];
}
