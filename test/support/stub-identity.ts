import { UnauthenticatedError, UnavailableError } from "../../src/core/errors.js";
import type { GroupProvider, TokenVerifier, VerifiedToken } from "../../src/core/identity.js";

/** Claims by token string: a test names its tokens and what they prove. */
export type TokenTable = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** A TokenVerifier that accepts only the tokens it was given; any other is refused as `token_invalid`. */
export class StubVerifier implements TokenVerifier {
  /** Every token it was asked to verify, in order. */
  readonly seen: string[] = [];
  /** When set, every verification rejects with this error (e.g. keys unreachable). */
  failWith: Error | undefined;

  constructor(private readonly tokens: TokenTable) {}

  /** Resolves with the table's claims for `token`. */
  async verify(token: string): Promise<VerifiedToken> {
    this.seen.push(token);
    if (this.failWith) throw this.failWith;
    const claims = this.tokens[token];
    if (!claims) throw new UnauthenticatedError("signature verification failed", "token_invalid");
    // A numeric `exp` claim is the token's expiry, as a real verifier reports it; otherwise an hour from now.
    const exp = claims.exp;
    return { claims, expiresAt: typeof exp === "number" ? exp : Math.floor(Date.now() / 1000) + 3600 };
  }
}

/** A GroupProvider reading the `groups` claim (a list of names), or failing as a real provider may. */
export class StubGroups implements GroupProvider {
  /** When set, every lookup rejects with this error; a provider failure is never an empty list. */
  failWith: Error | undefined;

  /** The names in the `groups` claim; none when the claim is absent. */
  async groupsOf(claims: Readonly<Record<string, unknown>>): Promise<readonly string[]> {
    if (this.failWith) throw this.failWith;
    const groups = claims.groups;
    return Array.isArray(groups) ? groups.map(String) : [];
  }
}

/** The user name from `unique_name`, refused as `user_claim_missing` when absent, like the real extractor. */
export function uniqueName(claims: Readonly<Record<string, unknown>>): string {
  const name = claims.unique_name;
  if (typeof name !== "string" || name === "") {
    throw new UnauthenticatedError("token has no unique_name claim", "user_claim_missing");
  }
  return name;
}

/** The error a group provider raises when Microsoft Graph cannot be reached. */
export function groupsUnreachable(): UnavailableError {
  return new UnavailableError("group provider unreachable");
}
