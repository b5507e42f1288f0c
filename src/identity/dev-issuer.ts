import { randomBytes } from "node:crypto";
import { chmod, link, mkdir, readFile, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";
import type { CryptoKey, JSONWebKeySet, JWK } from "jose";
import { InvalidArgumentError } from "../core/errors.js";

/*
 * LOCAL DEVELOPMENT ONLY. This issuer signs whatever user and groups it is asked for; it exists so the sidecar
 * can be tried without an identity provider. Never enable it where real data is served.
 */

/** `iss` of development tokens. */
export const DEV_ISSUER = "rolemapper-dev";
/** `aud` of development tokens. */
export const DEV_AUDIENCE = "rolemapper-dev";
/** File, inside the data directory, holding the development private key (mode 0600). */
export const DEV_KEY_FILE = "dev-issuer-key.json";

/** What a development token says. */
export interface MintRequest {
  readonly user: string;
  readonly groups?: readonly string[];
  /** Lifetime in seconds (default 3600, at most 7 days). */
  readonly ttlSeconds?: number;
}

/** The LOCAL DEVELOPMENT issuer: an RS256 key kept in the data directory. */
export interface DevIssuer {
  /** The public key set (served at GET /dev/jwks.json). */
  jwks(): JSONWebKeySet;
  /** A signed token with `unique_name` and `groups` claims. */
  mint(request: MintRequest): Promise<string>;
}

/** Opens the development issuer of `dataDir`, creating its key pair on first use. */
export async function openDevIssuer(dataDir: string): Promise<DevIssuer> {
  const privateJwk = await loadOrCreateKey(dataDir);
  // Only the public members: kty, n, e.
  const publicJwk: JWK = { kty: "RSA", n: privateJwk.n, e: privateJwk.e };
  const kid = await calculateJwkThumbprint(publicJwk);
  const published: JWK = { ...publicJwk, kid, alg: "RS256", use: "sig" };
  const signingKey = (await importJWK(privateJwk, "RS256")) as CryptoKey;
  return {
    jwks: () => ({ keys: [{ ...published }] }),
    async mint(request) {
      const { user, groups, ttl } = checkMint(request);
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ unique_name: user, groups })
        .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
        .setIssuer(DEV_ISSUER)
        .setAudience(DEV_AUDIENCE)
        .setSubject(user)
        .setIssuedAt(now)
        .setNotBefore(now)
        .setExpirationTime(now + ttl)
        .sign(signingKey);
    },
  };
}

function checkMint(request: MintRequest): { user: string; groups: string[]; ttl: number } {
  if (typeof request.user !== "string" || request.user.trim().length === 0) {
    throw new InvalidArgumentError("user", "must be a non-empty string");
  }
  const groups = [...(request.groups ?? [])];
  groups.forEach((group, index) => {
    if (typeof group !== "string" || group.length === 0) {
      throw new InvalidArgumentError(`groups[${index}]`, "must be a non-empty string");
    }
  });
  const ttl = request.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > 7 * 86_400) {
    throw new InvalidArgumentError("ttl", "must be a whole number of seconds between 1 and 604800");
  }
  return { user: request.user.trim(), groups, ttl };
}

async function loadOrCreateKey(dataDir: string): Promise<JWK> {
  const file = join(dataDir, DEV_KEY_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    return await readKey(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const { privateKey } = await generateKeyPair("RS256", { extractable: true, modulusLength: 2048 });
  const jwk = await exportJWK(privateKey);
  // Written aside and linked into place: a concurrent starter never reads a half-written key.
  const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
  await writeFile(temp, JSON.stringify(jwk), { mode: 0o600, flag: "wx" });
  await chmod(temp, 0o600); // the umask cannot widen it, but be explicit
  try {
    await link(temp, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  } finally {
    await unlink(temp);
  }
  return readKey(file);
}

async function readKey(file: string): Promise<JWK> {
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new InvalidArgumentError(
      "ROLEMAPPING_DATA_DIR",
      `${file} is readable by other users; run chmod 600 on it (it holds a private key)`,
    );
  }
  const jwk = JSON.parse(await readFile(file, "utf8")) as JWK;
  if (jwk.kty !== "RSA" || typeof jwk.d !== "string") {
    throw new InvalidArgumentError("ROLEMAPPING_DATA_DIR", `${file} does not hold an RSA private key`);
  }
  return jwk;
}
