import { compactVerify, decodeProtectedHeader, errors } from "jose";
import type { CompactVerifyResult, CryptoKey, ProtectedHeaderParameters } from "jose";
import { DEFAULTS } from "../config/defaults.js";
import { InvalidArgumentError, isCoreError } from "../core/errors.js";
import type { TokenVerifier, VerifiedToken } from "../core/identity.js";
import { checkAzureTenant, requireTenantGuid } from "./azure-tenant.js";
import { checkClaims } from "./claims-check.js";
import type { ClaimPolicy } from "./claims-check.js";
import { DEFAULT_CLAIM_OPTIONS, parseAlgorithms } from "./jwt-options.js";
import type { JwtClaimOptions } from "./jwt-options.js";
import type { KeySet } from "./key-set.js";
import { rejectToken } from "./token-reasons.js";

/** Everything a JWT verifier checks; all values already validated by config. */
export interface JwtVerifierOptions {
  /** Where keys come from (createRemoteKeySet or createLocalKeySet); header `jku`/`x5u` are never followed. */
  readonly keys: KeySet;
  /** Accepted `alg` values (default ["RS256"]); `none` and HS* are refused at construction. */
  readonly algorithms?: readonly string[];
  /** Accepted audience(s). */
  readonly audience?: string | readonly string[];
  /** Accepted issuer(s). */
  readonly issuer?: string | readonly string[];
  /** PyJWT-style claim options (parseJwtOptions); `exp` is required regardless. */
  readonly claimOptions?: JwtClaimOptions;
  /** Clock tolerance when claimOptions has no leeway (default 30 s). */
  readonly clockToleranceSeconds?: number;
  /** Tokens valid for longer than this, from `iat` or from now, are refused (default 86 400 s). */
  readonly maxTokenLifetimeSeconds?: number;
  /** Tokens longer than this many bytes are refused before decoding (default 16 KiB). */
  readonly maxTokenBytes?: number;
  /** Entra tenant GUID: `tid` must equal it and `iss` must be that tenant's v1 or v2 issuer. */
  readonly azureTenantId?: string;
  /** Clock in milliseconds (tests). */
  readonly now?: () => number;
}

/** A TokenVerifier for signed JWTs (JWS compact form) against a key set. */
export function createJwtVerifier(options: JwtVerifierOptions): TokenVerifier {
  const algorithms = parseAlgorithms(options.algorithms ?? DEFAULTS.identity.algorithms, "algorithms");
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULTS.identity.maxTokenBytes;
  if (!Number.isInteger(maxTokenBytes) || maxTokenBytes < 256) {
    throw new InvalidArgumentError("maxTokenBytes", "expected an integer of at least 256");
  }
  const maxLifetimeSeconds = options.maxTokenLifetimeSeconds ?? DEFAULTS.identity.maxTokenLifetimeS;
  if (!Number.isFinite(maxLifetimeSeconds) || maxLifetimeSeconds <= 0) {
    throw new InvalidArgumentError("maxTokenLifetimeSeconds", "expected a positive number of seconds");
  }
  const claimOptions = options.claimOptions ?? DEFAULT_CLAIM_OPTIONS;
  const policy: ClaimPolicy = {
    audience: toList(options.audience),
    issuer: toList(options.issuer),
    options: claimOptions,
    leewaySeconds: claimOptions.leewaySeconds ?? options.clockToleranceSeconds ?? 30,
    maxLifetimeSeconds,
  };
  const tenantId = options.azureTenantId === undefined ? undefined : requireTenantGuid(options.azureTenantId);
  const now = options.now ?? Date.now;
  const keys = options.keys;

  return {
    async verify(token: string): Promise<VerifiedToken> {
      if (typeof token !== "string" || token.length === 0) throw rejectToken("token_missing", "no token");
      if (Buffer.byteLength(token, "utf8") > maxTokenBytes) {
        throw rejectToken("token_too_large", `token is longer than ${maxTokenBytes} bytes`);
      }
      const header = readHeader(token);
      if (typeof header.alg !== "string" || !algorithms.includes(header.alg)) {
        throw rejectToken("token_alg_not_allowed", "token algorithm is not accepted");
      }
      // No extension is understood, so any "crit" makes the token unusable (RFC 7515 §4.1.11).
      if (header.crit !== undefined)
        throw rejectToken("token_crit_unsupported", "token has critical headers");

      const verified = await verifySignature(token, keys, algorithms);
      const claims = parsePayload(verified.payload);
      const expiresAt = checkClaims(claims, policy, now() / 1000);
      if (tenantId !== undefined) checkAzureTenant(claims, tenantId);
      return { claims: Object.freeze(claims), expiresAt };
    },
  };
}

function toList(value: string | readonly string[] | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  return typeof value === "string" ? [value] : [...value];
}

function readHeader(token: string): ProtectedHeaderParameters {
  if (token.split(".").length !== 3) throw rejectToken("token_malformed", "token is not a signed JWT");
  try {
    return decodeProtectedHeader(token);
  } catch {
    throw rejectToken("token_malformed", "token header cannot be decoded");
  }
}

async function verifySignature(
  token: string,
  keys: KeySet,
  algorithms: string[],
): Promise<CompactVerifyResult> {
  try {
    return await compactVerify(token, keys, { algorithms });
  } catch (error) {
    if (error instanceof errors.JWKSMultipleMatchingKeys) return tryEachKey(token, error, algorithms);
    throw toRejection(error);
  }
}

/** A token without `kid` when several keys fit its `alg`: the signature decides which one, if any. */
async function tryEachKey(
  token: string,
  candidates: AsyncIterable<CryptoKey>,
  algorithms: string[],
): Promise<CompactVerifyResult> {
  for await (const key of candidates) {
    try {
      return await compactVerify(token, key, { algorithms });
    } catch (error) {
      if (!(error instanceof errors.JWSSignatureVerificationFailed)) throw toRejection(error);
    }
  }
  throw rejectToken("token_bad_signature", "token signature is invalid");
}

function toRejection(error: unknown): Error {
  if (isCoreError(error)) return error;
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return rejectToken("token_bad_signature", "token signature is invalid");
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return rejectToken("token_alg_not_allowed", "token algorithm is not accepted");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return rejectToken("token_unknown_key", "no signing key matches the token");
  }
  // Anything else was caused by the token's bytes (bad encoding, key/alg mismatch): a refusal, not a crash.
  return rejectToken("token_malformed", "token cannot be verified");
}

function parsePayload(payload: Uint8Array): Record<string, unknown> {
  let claims: unknown;
  try {
    claims = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw rejectToken("token_malformed", "token payload is not JSON");
  }
  if (typeof claims !== "object" || claims === null || Array.isArray(claims)) {
    throw rejectToken("token_malformed", "token payload is not a JSON object");
  }
  return claims as Record<string, unknown>;
}
