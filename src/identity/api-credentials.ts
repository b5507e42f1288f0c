import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { bearerToken } from "../core/bearer.js";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../core/errors.js";

/** Who called the RoleMapping API, for audit logs: a credential's name, never its value. */
export interface ApiCaller {
  /** The token's name, the client certificate's subject, or "anonymous" when authentication is off. */
  readonly name: string;
  readonly method: "token" | "certificate" | "none";
}

/** Where the API's bearer tokens come from. */
export interface ApiTokenOptions {
  /** Comma-separated `name:token` or bare tokens (ROLEMAPPER_API_TOKENS). */
  readonly tokens?: string | undefined;
  /** A file of one `name:token` or bare token per line, `#` comments (ROLEMAPPER_API_TOKENS_FILE). */
  readonly tokensFile?: string | undefined;
  /** How often the file is read again on use, so a rotated token takes effect without a restart. */
  readonly fileCheckIntervalMs?: number;
}

/** One accepted token, kept only as its digest. */
interface TokenEntry {
  readonly name: string;
  readonly digest: Buffer;
}

/** Shortest token accepted: a guessable token is worse than none, since it looks like protection. */
export const MIN_TOKEN_LENGTH = 16;
const DEFAULT_FILE_CHECK_MS = 1_000;

/**
 * The bearer tokens the gRPC and REST forms of the RoleMapping API accept. Tokens from the list are fixed;
 * tokens from the file are read again (at most once per check interval) when a call needs them, so rotating a
 * token is editing the file. Tokens are compared as SHA-256 digests in constant time.
 */
export class ApiTokens {
  private readonly fixed: readonly TokenEntry[];
  private fromFile: readonly TokenEntry[] = [];
  private lastRead = 0;
  private reading: Promise<void> | undefined;
  private readonly intervalMs: number;

  private constructor(
    fixed: readonly TokenEntry[],
    private readonly file: string | undefined,
    intervalMs: number | undefined,
  ) {
    this.fixed = fixed;
    this.intervalMs = intervalMs ?? DEFAULT_FILE_CHECK_MS;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs < 0) {
      throw new InvalidArgumentError("fileCheckIntervalMs", "expected a number of milliseconds >= 0");
    }
  }

  /**
   * Parses the list and reads the file once, synchronously, so a bad configuration fails at boot; throws
   * InvalidArgumentError naming ROLEMAPPER_API_TOKENS or ROLEMAPPER_API_TOKENS_FILE.
   */
  static load(options: ApiTokenOptions): ApiTokens {
    const fixed =
      options.tokens === undefined || options.tokens.trim() === ""
        ? []
        : parseEntries(options.tokens.split(","), "ROLEMAPPER_API_TOKENS", "token");
    const tokens = new ApiTokens(fixed, options.tokensFile, options.fileCheckIntervalMs);
    if (options.tokensFile !== undefined) {
      let text: string;
      try {
        text = readFileSync(options.tokensFile, "utf8");
      } catch (error) {
        throw new InvalidArgumentError(
          "ROLEMAPPER_API_TOKENS_FILE",
          `cannot read ${options.tokensFile}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
        );
      }
      tokens.fromFile = parseFile(text);
      tokens.lastRead = Date.now();
    }
    return tokens;
  }

  /** True when at least one source of tokens is configured. */
  get configured(): boolean {
    return this.fixed.length > 0 || this.file !== undefined;
  }

  /**
   * The caller holding the token in an `Authorization: Bearer …` value. UnauthenticatedError when it is
   * missing, malformed or unknown; UnavailableError when the token file can no longer be read (fail closed).
   */
  async authenticate(authorization: string | undefined): Promise<ApiCaller> {
    if (authorization === undefined || authorization === "") {
      throw new UnauthenticatedError("missing bearer token (authorization: Bearer <token>)", "token_missing");
    }
    const token = bearerToken(authorization);
    if (token === undefined)
      throw new UnauthenticatedError("authorization is not a bearer token", "token_bad_scheme");
    await this.refresh();
    const digest = sha256(token);
    let name: string | undefined;
    // Every entry is compared, so the time taken does not tell which entry matched or how many there are.
    for (const entry of [...this.fixed, ...this.fromFile]) {
      if (timingSafeEqual(entry.digest, digest) && name === undefined) name = entry.name;
    }
    if (name === undefined) throw new UnauthenticatedError("unknown bearer token", "token_unknown");
    return { name, method: "token" };
  }

  private refresh(): Promise<void> {
    if (this.file === undefined || Date.now() - this.lastRead < this.intervalMs) return Promise.resolve();
    this.reading ??= this.read(this.file).finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(file: string): Promise<void> {
    let entries: readonly TokenEntry[];
    try {
      entries = parseFile(await readFile(file, "utf8"));
    } catch (error) {
      // Refusing everyone is safer than going on with tokens that may have been revoked.
      this.fromFile = [];
      this.lastRead = 0;
      const reason = error instanceof InvalidArgumentError ? error.message : "cannot read it";
      throw new UnavailableError(`API token file unusable: ${reason}`);
    }
    this.fromFile = entries;
    this.lastRead = Date.now();
  }
}

function parseFile(text: string): TokenEntry[] {
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
  return parseEntries(lines, "ROLEMAPPER_API_TOKENS_FILE", "file-token");
}

// `name:token` or a bare token, which is named by its position so logs never carry any part of it.
function parseEntries(items: readonly string[], source: string, unnamed: string): TokenEntry[] {
  const names = new Set<string>();
  return items.map((raw, index) => {
    const item = raw.trim();
    const colon = item.indexOf(":");
    const name = colon > 0 ? item.slice(0, colon).trim() : `${unnamed}-${index + 1}`;
    const token = colon > 0 ? item.slice(colon + 1).trim() : item;
    const where = `entry ${index + 1}`;
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new InvalidArgumentError(
        source,
        `${where}: a token needs at least ${MIN_TOKEN_LENGTH} characters`,
      );
    }
    if (/\s/.test(token)) throw new InvalidArgumentError(source, `${where}: a token holds no whitespace`);
    if (names.has(name)) throw new InvalidArgumentError(source, `${where}: duplicate name "${name}"`);
    names.add(name);
    return { name, digest: sha256(token) };
  });
}

function sha256(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** How the RoleMapping API authenticates callers; given to both the gRPC server and the REST app. */
export interface ApiAuth {
  /** Bearer tokens every call must carry; undefined when only client certificates (or nothing) are used. */
  readonly tokens?: ApiTokens | undefined;
  /** Serve without any authentication. Only ever set by an explicit, logged configuration choice. */
  readonly insecure?: boolean;
}

/** Throws at setup when a transport would serve the API with no authentication and `insecure` is not set. */
export function requireApiAuth(auth: ApiAuth, clientCertificates: boolean, transport: string): void {
  if (auth.tokens?.configured || clientCertificates || auth.insecure === true) return;
  throw new InvalidArgumentError(
    "auth",
    `${transport}: no API tokens and no client certificate authority configured; refusing to serve the ` +
      "RoleMapping API unauthenticated unless insecure is set",
  );
}

/**
 * Authenticates one call: the bearer token when tokens are configured (a client certificate, verified by the
 * TLS layer, is then required as well when configured), else the certificate's subject, else anonymous when
 * running insecure. Throws UnauthenticatedError otherwise.
 */
export async function authenticateCaller(
  auth: ApiAuth,
  authorization: string | undefined,
  certificateSubject: string | undefined,
): Promise<ApiCaller> {
  if (auth.tokens?.configured) return auth.tokens.authenticate(authorization);
  if (certificateSubject !== undefined) return { name: certificateSubject, method: "certificate" };
  if (auth.insecure === true) return { name: "anonymous", method: "none" };
  throw new UnauthenticatedError("no credentials presented", "credentials_missing");
}
