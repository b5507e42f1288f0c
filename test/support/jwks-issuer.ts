import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from "jose";
import type { CryptoKey, JWK, JWTPayload } from "jose";

/** One signing key of the test issuer. */
export interface IssuerKey {
  readonly kid: string;
  readonly alg: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** Options of one signature made by the test issuer. */
export interface SignOptions {
  /** Sign with this key (default: the current key). */
  kid?: string;
  /** Extra or overriding protected-header members (e.g. `jku`, `crit`, `x5t`). */
  header?: Record<string, unknown>;
  /** Leave out the default claims (iss, aud, iat, exp). */
  bare?: boolean;
}

/**
 * A local OIDC issuer on 127.0.0.1: serves `/.well-known/openid-configuration` and `/jwks.json`, signs tokens,
 * rotates and removes keys, can go down (503) or hang, and counts JWKS fetches.
 */
export class JwksIssuer {
  /** JWKS requests served (including failed ones). */
  jwksFetches = 0;
  /** "up" serves keys; "down" answers 503; "hang" never answers. */
  mode: "up" | "down" | "hang" = "up";
  /** Audience put into tokens by default. */
  audience = "api://rolemapper";
  private readonly keys: IssuerKey[] = [];
  private current: IssuerKey | undefined;
  private readonly server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", this.url).pathname;
    if (path === "/jwks.json") {
      this.jwksFetches += 1;
      if (this.mode === "hang") return; // the client's timeout must end this
      if (this.mode === "down") {
        res.writeHead(503).end("down");
        return;
      }
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(this.jwks()));
    } else if (path === "/.well-known/openid-configuration") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ issuer: this.url, jwks_uri: this.jwksUrl }));
    } else {
      res.writeHead(404).end();
    }
  });

  private constructor() {}

  /** Starts an issuer with one RS256 key. */
  static async start(): Promise<JwksIssuer> {
    const issuer = new JwksIssuer();
    await new Promise<void>((resolve) => issuer.server.listen(0, "127.0.0.1", resolve));
    await issuer.addKey();
    return issuer;
  }

  /** Base URL, also used as the `iss` claim. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  /** The JWKS address. */
  get jwksUrl(): string {
    return `${this.url}/jwks.json`;
  }

  /** The public key set currently published. */
  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((k) => k.publicJwk) };
  }

  /** Creates and publishes a key; it becomes the current signing key when `makeCurrent` (default true). */
  async addKey(alg = "RS256", kid?: string, makeCurrent = true): Promise<IssuerKey> {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const jwk = await exportJWK(publicKey);
    const thumbprint = await calculateJwkThumbprint(jwk);
    const key: IssuerKey = {
      kid: kid ?? thumbprint.slice(0, 16),
      alg,
      privateKey,
      publicKey,
      publicJwk: {
        ...jwk,
        kid: kid ?? thumbprint.slice(0, 16),
        alg,
        use: "sig",
        x5t: thumbprint.slice(0, 27),
      },
    };
    this.keys.push(key);
    if (makeCurrent) this.current = key;
    return key;
  }

  /** Key rotation: a new current key, the old ones stay published. Returns the new kid. */
  async rotate(): Promise<string> {
    return (await this.addKey()).kid;
  }

  /** Stops publishing a key. */
  removeKey(kid: string): void {
    const index = this.keys.findIndex((k) => k.kid === kid);
    if (index >= 0) this.keys.splice(index, 1);
  }

  /** The current signing key. */
  get currentKey(): IssuerKey {
    if (!this.current) throw new Error("no key");
    return this.current;
  }

  /** Default claims: this issuer, the audience, issued now, valid ten minutes. */
  defaultClaims(): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return { iss: this.url, aud: this.audience, iat: now, nbf: now, exp: now + 600 };
  }

  /** Signs claims (merged over defaultClaims unless `bare`) with a published or given key. */
  async sign(claims: Record<string, unknown>, options: SignOptions = {}, key?: IssuerKey): Promise<string> {
    const signer = key ?? (options.kid ? this.keys.find((k) => k.kid === options.kid) : this.current);
    if (!signer) throw new Error(`no key ${options.kid}`);
    const payload = options.bare ? claims : { ...this.defaultClaims(), ...claims };
    return new SignJWT(payload as JWTPayload)
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "JWT", ...options.header } as never)
      .sign(signer.privateKey);
  }

  /**
   * Signs arbitrary header and payload bytes with RS256 and no checks at all, for malformed tokens
   * (unknown `crit`, non-object payloads) that jose's signer refuses to produce.
   */
  async signRaw(header: Record<string, unknown>, payload: unknown, key?: IssuerKey): Promise<string> {
    const signer = key ?? this.currentKey;
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${encode({ alg: "RS256", kid: signer.kid, ...header })}.${encode(payload)}`;
    const signature = await crypto.subtle.sign("RSASSA-PKCS1-v1_5", signer.privateKey, Buffer.from(input));
    return `${input}.${Buffer.from(signature).toString("base64url")}`;
  }

  /** A key that is not published anywhere (forgeries). */
  static async strayKey(kid = "stray"): Promise<IssuerKey> {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = await exportJWK(publicKey);
    return { kid, alg: "RS256", privateKey, publicKey, publicJwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
