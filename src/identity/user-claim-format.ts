import { rejectToken } from "./token-reasons.js";

/**
 * What a user claim must look like (USER_CLAIM_FORMAT). `email`: one address `local@domain`; `any`: a name
 * without `@` that does not read as an address's subject. Either way `user:` + the claim with its `@` turned into
 * `_` names one person only.
 */
export type UserClaimFormat = "email" | "any";

/** The accepted values of USER_CLAIM_FORMAT; the first is the default. */
export const USER_CLAIM_FORMATS: readonly UserClaimFormat[] = ["email", "any"];

// Anything but `@`, white space and control characters (quoted local parts holding `@` are not accepted).
const LOCAL_PART = /^[^@\s\p{Cc}]+$/u;
// A domain label: letters (IDN too), digits and inner hyphens. Never `_`, which host names cannot hold.
const DOMAIN_LABEL = /^[\p{L}\p{N}\p{M}](?:[\p{L}\p{N}\p{M}-]*[\p{L}\p{N}\p{M}])?$/u;

/**
 * True for one address `local@domain`: a single `@`, a local part without white space, and a domain of at least
 * two dot-separated labels without `_`. So in its subject the last `_` is always the one that replaced the `@`.
 */
export function isEmailAddress(value: string): boolean {
  const at = value.indexOf("@");
  if (at <= 0 || at !== value.lastIndexOf("@")) return false;
  if (!LOCAL_PART.test(value.slice(0, at))) return false;
  const labels = value.slice(at + 1).split(".");
  return labels.length >= 2 && labels.every((label) => DOMAIN_LABEL.test(label));
}

/** True when `name` (without `@`) is what an address becomes in a subject: `local_domain.tld`. */
function readsAsEmailSubject(name: string): boolean {
  const last = name.lastIndexOf("_");
  return last > 0 && isEmailAddress(`${name.slice(0, last)}@${name.slice(last + 1)}`);
}

/**
 * Refuses a user name that breaks USER_CLAIM_FORMAT, with reason `user_claim_not_email` (email), or
 * `user_claim_has_at` / `user_claim_like_email` (any). `claim` names the claim in the message; the value is
 * never repeated, since messages reach logs.
 */
export function checkUserClaimFormat(name: string, format: UserClaimFormat, claim: string): void {
  if (format === "email") {
    if (!isEmailAddress(name)) {
      throw rejectToken(
        "user_claim_not_email",
        `the "${claim}" claim is not one e-mail address (local@domain, a domain without "_")`,
      );
    }
    return;
  }
  if (name.includes("@")) {
    throw rejectToken("user_claim_has_at", `the "${claim}" claim holds "@" but USER_CLAIM_FORMAT is any`);
  }
  if (readsAsEmailSubject(name)) {
    throw rejectToken(
      "user_claim_like_email",
      `the "${claim}" claim reads as an e-mail address's subject (name_domain.tld)`,
    );
  }
}
