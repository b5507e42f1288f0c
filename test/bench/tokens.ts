import { KeyObject, sign } from "node:crypto";
import type { JwksIssuer } from "../support/jwks-issuer.js";

/** Claims of one benchmark token beyond the issuer's defaults. */
export interface TokenClaims {
  readonly unique_name: string;
  readonly groups: readonly string[];
}

/**
 * Signs RS256 tokens with the issuer's current key and its default claims (iss, aud, iat, nbf, exp), with
 * node:crypto directly: thousands of cold tokens are needed and jose's WebCrypto signer is slower.
 * `serial` goes into `jti`, so every token is distinct even for the same user.
 */
export function signTokens(issuer: JwksIssuer, claims: readonly TokenClaims[], serialBase = 0): string[] {
  const key = issuer.currentKey;
  const privateKey = KeyObject.from(key.privateKey);
  const header = encode({ alg: "RS256", kid: key.kid, typ: "JWT" });
  const defaults = issuer.defaultClaims();
  return claims.map((claim, i) => {
    const payload = encode({ ...defaults, ...claim, oid: `oid-${i}`, jti: `bench-${serialBase + i}` });
    const input = `${header}.${payload}`;
    return `${input}.${sign("sha256", Buffer.from(input), privateKey).toString("base64url")}`;
  });
}

function encode(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** Hasura's webhook body for one client request carrying `token`. */
export function webhookBody(
  token: string,
  request: { query: string; operationName: string; variables: Readonly<Record<string, unknown>> },
  requestId: string,
): string {
  return JSON.stringify({
    headers: {
      Authorization: `Bearer ${token}`,
      "Content-Type": "application/json",
      Accept: "*/*",
      "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) data-consumer/1.0",
      "X-Request-Id": requestId,
      "Accept-Encoding": "gzip, deflate",
    },
    request,
  });
}
