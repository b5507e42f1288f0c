import { InvalidArgumentError } from "../core/errors.js";

/** Claim checks in PyJWT's vocabulary; `exp` is required and verified whatever these say. */
export interface JwtClaimOptions {
  /** Check `aud` against the configured audience (PyJWT `verify_aud`, default true). */
  readonly verifyAud: boolean;
  /** Check `iss` against the configured issuer (PyJWT `verify_iss`, default true). */
  readonly verifyIss: boolean;
  /** Check `nbf` when present (PyJWT `verify_nbf`, default true). */
  readonly verifyNbf: boolean;
  /** Check that `iat`, when present, is a number (PyJWT `verify_iat`, default true). */
  readonly verifyIat: boolean;
  /** Check that `sub`, when present, is a string (PyJWT `verify_sub`, default true). */
  readonly verifySub: boolean;
  /** Check that `jti`, when present, is a string (PyJWT `verify_jti`, default true). */
  readonly verifyJti: boolean;
  /** `aud` must be a single string, not a list (PyJWT `strict_aud`, default false). */
  readonly strictAud: boolean;
  /** Claims that must be present; always contains `exp`. */
  readonly require: readonly string[];
  /** Clock tolerance in seconds for `exp`/`nbf`; undefined keeps the verifier's default. */
  readonly leewaySeconds?: number;
}

/** The defaults: everything verified, only `exp` required. */
export const DEFAULT_CLAIM_OPTIONS: JwtClaimOptions = Object.freeze({
  verifyAud: true,
  verifyIss: true,
  verifyNbf: true,
  verifyIat: true,
  verifySub: true,
  verifyJti: true,
  strictAud: false,
  require: ["exp"],
});

/** The outcome of parsing JWT_OPTIONS: the options plus settings that were ignored, for a startup warning. */
export interface ParsedJwtOptions {
  readonly options: JwtClaimOptions;
  readonly warnings: readonly string[];
}

const FLAGS = {
  verify_aud: "verifyAud",
  verify_iss: "verifyIss",
  verify_nbf: "verifyNbf",
  verify_iat: "verifyIat",
  verify_sub: "verifySub",
  verify_jti: "verifyJti",
  strict_aud: "strictAud",
} as const;

/**
 * Parses the PyJWT `options` object of JWT_OPTIONS (already JSON-decoded).
 * `verify_signature: false` is refused; `verify_exp: false` is ignored with a warning, since expiry is always checked.
 */
export function parseJwtOptions(json: unknown, field = "JWT_OPTIONS"): ParsedJwtOptions {
  if (json === undefined || json === null) return { options: DEFAULT_CLAIM_OPTIONS, warnings: [] };
  if (typeof json !== "object" || Array.isArray(json)) {
    throw new InvalidArgumentError(field, 'expected a JSON object such as {"verify_aud": true}');
  }
  const options: { -readonly [K in keyof JwtClaimOptions]: JwtClaimOptions[K] } = {
    ...DEFAULT_CLAIM_OPTIONS,
  };
  const warnings: string[] = [];
  for (const [key, value] of Object.entries(json)) {
    const name = `${field}.${key}`;
    if (key === "verify_signature") {
      if (value !== true) throw new InvalidArgumentError(name, "signature verification cannot be turned off");
    } else if (key === "verify_exp") {
      requireBoolean(name, value);
      if (value === false) warnings.push(`${name}=false is ignored: token expiry is always verified`);
    } else if (key in FLAGS) {
      requireBoolean(name, value);
      options[FLAGS[key as keyof typeof FLAGS]] = value as boolean;
    } else if (key === "require") {
      options.require = [...new Set(["exp", ...requireStringList(name, value)])];
    } else if (key === "leeway") {
      if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 3600) {
        throw new InvalidArgumentError(name, "expected a number of seconds between 0 and 3600");
      }
      options.leewaySeconds = value;
    } else {
      throw new InvalidArgumentError(name, "unknown option (known: verify_*, strict_aud, require, leeway)");
    }
  }
  return { options: Object.freeze(options), warnings };
}

const ASYMMETRIC_ALGORITHMS = new Set([
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
]);

/** Parses JWT_ALGORITHMS (a decoded JSON list): asymmetric JWS algorithms only; `none` and HS* are refused. */
export function parseAlgorithms(json: unknown, field = "JWT_ALGORITHMS"): string[] {
  const list = requireStringList(field, json);
  if (list.length === 0) throw new InvalidArgumentError(field, "at least one algorithm is required");
  list.forEach((alg, index) => {
    const name = `${field}[${index}]`;
    if (alg.toLowerCase() === "none") throw new InvalidArgumentError(name, '"none" is never accepted');
    if (/^HS\d+$/i.test(alg)) {
      // Keys come from a JWKS of public keys; an HMAC "key" would be public knowledge (RFC 8725 §2.1).
      throw new InvalidArgumentError(
        name,
        `symmetric algorithm ${alg} is not accepted with a public key set`,
      );
    }
    if (!ASYMMETRIC_ALGORITHMS.has(alg)) {
      throw new InvalidArgumentError(name, `unsupported algorithm "${alg}" (use e.g. RS256, PS256, ES256)`);
    }
  });
  return [...new Set(list)];
}

/** A decoded JSON value that must be a list of non-empty strings (e.g. AZURE_SCOPES). */
export function requireStringList(field: string, value: unknown): string[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, "expected a JSON list of strings");
  return value.map((item, index) => {
    if (typeof item !== "string" || item.length === 0) {
      throw new InvalidArgumentError(`${field}[${index}]`, "expected a non-empty string");
    }
    return item;
  });
}

function requireBoolean(field: string, value: unknown): void {
  if (typeof value !== "boolean") throw new InvalidArgumentError(field, "expected true or false");
}
