import type { JwtClaimOptions } from "./jwt-options.js";
import { rejectToken } from "./token-reasons.js";

/** What the claims of a correctly signed token must satisfy. */
export interface ClaimPolicy {
  /** Accepted audiences; when unset, a token that carries `aud` is refused (as PyJWT does) unless verifyAud is off. */
  readonly audience?: readonly string[];
  /** Accepted issuers; unset means any. */
  readonly issuer?: readonly string[];
  readonly options: JwtClaimOptions;
  /** Clock tolerance for `exp` and `nbf`. */
  readonly leewaySeconds: number;
  /** Longest a token may be valid (JWT_MAX_TOKEN_LIFETIME_S): `exp` at most this far from `iat`, and from now. */
  readonly maxLifetimeSeconds: number;
}

/** Checks the registered claims of a verified payload at `nowSeconds`; returns `exp`. Throws UnauthenticatedError. */
export function checkClaims(
  claims: Record<string, unknown>,
  policy: ClaimPolicy,
  nowSeconds: number,
): number {
  const { options, leewaySeconds } = policy;
  for (const name of options.require) {
    if (claims[name] === undefined)
      throw rejectToken("token_claim_missing", `token lacks the "${name}" claim`);
  }
  const exp = claims.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp)) {
    throw rejectToken("token_claim_invalid", 'the "exp" claim must be a number');
  }
  if (nowSeconds >= exp + leewaySeconds) throw rejectToken("token_expired", "token has expired");

  if (options.verifyNbf && claims.nbf !== undefined) {
    const nbf = claims.nbf;
    if (typeof nbf !== "number" || !Number.isFinite(nbf)) {
      throw rejectToken("token_claim_invalid", 'the "nbf" claim must be a number');
    }
    if (nbf > nowSeconds + leewaySeconds) throw rejectToken("token_not_yet_valid", "token is not valid yet");
  }
  if (
    options.verifyIat &&
    claims.iat !== undefined &&
    (typeof claims.iat !== "number" || !Number.isFinite(claims.iat))
  ) {
    throw rejectToken("token_claim_invalid", 'the "iat" claim must be a number');
  }
  checkLifetime(claims.iat, exp, policy.maxLifetimeSeconds, nowSeconds, leewaySeconds);
  if (options.verifySub && claims.sub !== undefined && typeof claims.sub !== "string") {
    throw rejectToken("token_claim_invalid", 'the "sub" claim must be a string');
  }
  if (options.verifyJti && claims.jti !== undefined && typeof claims.jti !== "string") {
    throw rejectToken("token_claim_invalid", 'the "jti" claim must be a string');
  }
  if (options.verifyAud) checkAudience(claims.aud, policy.audience, options.strictAud);
  if (options.verifyIss && policy.issuer !== undefined) {
    if (typeof claims.iss !== "string" || !policy.issuer.includes(claims.iss)) {
      throw rejectToken("token_bad_issuer", "token issuer is not accepted");
    }
  }
  return exp;
}

/**
 * Refuses a token valid for longer than `maxSeconds`, counted from its `iat` and from now: a future `iat` must not
 * stretch how long a stolen token, or its cache entry, stays good.
 */
function checkLifetime(
  iat: unknown,
  exp: number,
  maxSeconds: number,
  nowSeconds: number,
  leewaySeconds: number,
): void {
  const issued = typeof iat === "number" && Number.isFinite(iat) ? iat : undefined;
  if ((issued !== undefined && exp - issued > maxSeconds) || exp - nowSeconds > maxSeconds + leewaySeconds) {
    throw rejectToken("token_lifetime", `token is valid for longer than ${maxSeconds} s`);
  }
}

function checkAudience(aud: unknown, accepted: readonly string[] | undefined, strict: boolean): void {
  if (accepted === undefined) {
    const present =
      aud !== undefined && aud !== null && !(Array.isArray(aud) && aud.length === 0) && aud !== "";
    if (present)
      throw rejectToken("token_bad_audience", "token has an audience but no audience is configured");
    return;
  }
  if (aud === undefined) throw rejectToken("token_bad_audience", "token has no audience");
  if (strict && typeof aud !== "string")
    throw rejectToken("token_bad_audience", "token audience must be a string");
  const values = typeof aud === "string" ? [aud] : aud;
  if (!Array.isArray(values) || !values.every((v): v is string => typeof v === "string")) {
    throw rejectToken("token_claim_invalid", 'the "aud" claim must be a string or a list of strings');
  }
  if (!values.some((v) => accepted.includes(v))) {
    throw rejectToken("token_bad_audience", "token audience is not accepted");
  }
}
