import { UnauthenticatedError } from "../core/errors.js";

/** Stable reason codes for refused tokens and callers; they appear in logs and metrics, so never rename one. */
export type TokenRejectReason =
  | "token_missing"
  | "token_too_large"
  | "token_malformed"
  | "token_expired"
  | "token_lifetime"
  | "token_not_yet_valid"
  | "token_bad_signature"
  | "token_bad_audience"
  | "token_bad_issuer"
  | "token_bad_tenant"
  | "token_unknown_key"
  | "token_alg_not_allowed"
  | "token_crit_unsupported"
  | "token_claim_missing"
  | "token_claim_invalid"
  | "user_claim_missing"
  | "user_claim_invalid"
  | "user_claim_not_email"
  | "user_claim_has_at"
  | "user_claim_like_email"
  | "groups_claim_invalid"
  | "groups_claim_too_large"
  | "oid_missing"
  | "directory_user_not_found";

/** An UnauthenticatedError carrying one of the identity reason codes. */
export function rejectToken(reason: TokenRejectReason, message: string): UnauthenticatedError {
  return new UnauthenticatedError(message, reason);
}
