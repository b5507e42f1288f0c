import { createLocalJWKSet } from "jose";
import type { CryptoKey, FlattenedJWSInput, JSONWebKeySet, JWSHeaderParameters } from "jose";

/** Resolves the verification key for a token's protected header; the only place keys come from. */
export type KeySet = (header: JWSHeaderParameters, token: FlattenedJWSInput) => Promise<CryptoKey>;

/** A fixed key set (development mode, tests); public keys only, as jose refuses private members. */
export function createLocalKeySet(jwks: JSONWebKeySet): KeySet {
  return createLocalJWKSet(jwks);
}
