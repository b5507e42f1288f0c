import { DEFAULTS } from "../config/defaults.js";
import { MAX_ID_LENGTH } from "../core/mapping.js";
import { rejectToken } from "./token-reasons.js";
import { checkUserClaimFormat, type UserClaimFormat } from "./user-claim-format.js";

/**
 * The caller's user name: the first of `claimNames` that holds a non-empty string (e.g. unique_name, then upn,
 * then preferred_username), which must then fit `format` (USER_CLAIM_FORMAT; a misfit is refused, never skipped
 * for the next claim). Throws UnauthenticatedError `user_claim_missing`, `user_claim_invalid` or a format reason.
 */
export function userNameFromClaims(
  claims: Readonly<Record<string, unknown>>,
  claimNames: readonly string[] = DEFAULTS.identity.userClaims,
  format: UserClaimFormat = DEFAULTS.identity.userClaimFormat,
): string {
  for (const name of claimNames) {
    const value = Object.hasOwn(claims, name) ? claims[name] : undefined;
    if (typeof value !== "string" || value.length === 0) continue;
    // The subject `user:<name>` must fit the stored varchar(255).
    if (value.length > MAX_ID_LENGTH - "user:".length) {
      throw rejectToken("user_claim_invalid", `the "${name}" claim is too long to be a user name`);
    }
    checkUserClaimFormat(value, format, name);
    return value;
  }
  throw rejectToken("user_claim_missing", `token has none of the user claims ${claimNames.join(", ")}`);
}
