import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { SignJWT, calculateJwkThumbprint, generateKeyPair, importJWK } from "jose";
import type { CryptoKey, JWK } from "jose";
import { DEV_AUDIENCE, DEV_ISSUER, DEV_KEY_FILE } from "../../../src/identity/dev-issuer.js";

/** Signs any header and claims with the development issuer's own private key (the key a sidecar trusts). */
export async function devKeySigner(dataDir: string): Promise<{
  kid: string;
  publicJwk: JWK;
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>;
  /** Signs exactly this header and payload, with no checks (e.g. a `crit` jose's signer refuses). */
  signRaw(header: Record<string, unknown>, payload: unknown): Promise<string>;
}> {
  const jwk = JSON.parse(await readFile(join(dataDir, DEV_KEY_FILE), "utf8")) as JWK;
  const publicJwk: JWK = { kty: "RSA", n: jwk.n, e: jwk.e };
  const kid = await calculateJwkThumbprint(publicJwk);
  const key = (await importJWK(jwk, "RS256")) as CryptoKey;
  return {
    kid,
    publicJwk,
    sign: (claims, header = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT", ...header } as never).sign(key),
    async signRaw(header, payload) {
      const input = `${b64({ alg: "RS256", kid, typ: "JWT", ...header })}.${b64(payload)}`;
      const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", key, new TextEncoder().encode(input));
      return `${input}.${Buffer.from(signature).toString("base64url")}`;
    },
  };
}

/** Claims a development token carries: issuer, audience, valid for ten minutes. */
export function devClaims(user: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: DEV_ISSUER,
    aud: DEV_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 600,
    unique_name: user,
    ...extra,
  };
}

/** Base64url of a JSON value. */
export function b64(value: unknown): string {
  return Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
}

/** An unsigned token (`alg: none`) with the given claims. */
export function unsignedToken(claims: Record<string, unknown>, alg = "none"): string {
  return `${b64({ alg, typ: "JWT" })}.${b64(claims)}.`;
}

/** HS256 over `header.payload` with `secret`: the classic confusion of a public key used as an HMAC secret. */
export async function hmacToken(
  claims: Record<string, unknown>,
  secret: Uint8Array,
  kid: string,
): Promise<string> {
  const input = `${b64({ alg: "HS256", typ: "JWT", kid })}.${b64(claims)}`;
  const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

/** An RS256 token signed by a key nobody published, claiming the trusted key's `kid`. */
export async function forgedToken(claims: Record<string, unknown>, kid: string): Promise<string> {
  const { privateKey } = await generateKeyPair("RS256");
  return new SignJWT(claims).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(privateKey);
}
