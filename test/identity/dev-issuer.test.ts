import { execFile } from "node:child_process";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.js";
import { InvalidArgumentError } from "../../src/core/errors.js";
import {
  DEV_AUDIENCE,
  DEV_ISSUER,
  DEV_KEY_FILE,
  openDevIssuer,
  type DevIssuer,
} from "../../src/identity/dev-issuer.js";
import { createJwtVerifier, type JwtVerifierOptions } from "../../src/identity/jwt-verifier.js";
import { createClaimsGroupProvider } from "../../src/identity/claims-groups.js";
import { createLocalKeySet } from "../../src/identity/key-set.js";
import { userNameFromClaims } from "../../src/identity/user-claim.js";
import { buildIdentity } from "../../src/wiring/identity.js";
import { RecordingLogger } from "../support/recording-logger.js";

const run = promisify(execFile);

// Verifier options that accept exactly the development issuer's tokens.
function devVerifierOptions(issuer: DevIssuer): JwtVerifierOptions {
  return {
    keys: createLocalKeySet(issuer.jwks()),
    algorithms: ["RS256"],
    audience: DEV_AUDIENCE,
    issuer: DEV_ISSUER,
  };
}
let dataDir: string;
beforeEach(async () => {
  dataDir = join(await mkdtemp(join(tmpdir(), "rolemapper-dev-")), "data");
});
afterEach(() => rm(join(dataDir, ".."), { recursive: true, force: true }));

describe("development issuer", () => {
  it("creates a private key readable only by its owner and reuses it", async () => {
    const first = await openDevIssuer(dataDir);
    expect((await stat(join(dataDir, DEV_KEY_FILE))).mode & 0o777).toBe(0o600);
    const second = await openDevIssuer(dataDir);
    expect(second.jwks()).toEqual(first.jwks());
  });

  it("publishes only the public key", async () => {
    const [key] = (await openDevIssuer(dataDir)).jwks().keys;
    expect(key).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig" });
    for (const member of ["d", "p", "q", "dp", "dq", "qi"]) expect(key).not.toHaveProperty(member);
  });

  it("mints tokens the sidecar accepts, with user and groups claims", async () => {
    const issuer = await openDevIssuer(dataDir);
    const token = await issuer.mint({
      user: "alice@example.com",
      groups: ["analysts", "engineers"],
      ttlSeconds: 60,
    });
    const verified = await createJwtVerifier(devVerifierOptions(issuer)).verify(token);
    expect(userNameFromClaims(verified.claims)).toBe("alice@example.com");
    expect(await createClaimsGroupProvider().groupsOf(verified.claims)).toEqual(["analysts", "engineers"]);
    expect(verified.claims).toMatchObject({ iss: "rolemapper-dev", aud: "rolemapper-dev" });
    expect(verified.expiresAt - Math.floor(Date.now() / 1000)).toBeLessThanOrEqual(60);
  });

  it("refuses a key file others can read", async () => {
    await openDevIssuer(dataDir);
    await chmod(join(dataDir, DEV_KEY_FILE), 0o644);
    await expect(openDevIssuer(dataDir)).rejects.toThrow(/chmod 600/);
  });

  it("refuses bad mint requests", async () => {
    const issuer = await openDevIssuer(dataDir);
    await expect(issuer.mint({ user: " " })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(issuer.mint({ user: "a", ttlSeconds: 0 })).rejects.toThrow(/ttl/);
  });
});

describe("the development issuer's tokens in the sidecar's identity", () => {
  it("pass with an AZURE_TENANT_ID left in the environment (they carry no tenant), and the user check holds", async () => {
    const issuer = await openDevIssuer(dataDir);
    const config = loadConfig({ AZURE_TENANT_ID: "72f988bf-86f1-41af-91ab-2d7cd011db47" });
    expect(config.devMode).toBe(true);
    const keys = { keys: createLocalKeySet(issuer.jwks()), issuer: [DEV_ISSUER], audience: [DEV_AUDIENCE] };
    const identity = buildIdentity(config, new RecordingLogger().pino, keys);
    const verified = await identity.verifier.verify(await issuer.mint({ user: "alice@example.com" }));
    expect(identity.userName(verified.claims)).toBe("alice@example.com");
    const notAddress = await identity.verifier.verify(await issuer.mint({ user: "alice_example.com" }));
    expect(() => identity.userName(notAddress.claims)).toThrow(
      expect.objectContaining({ reason: "user_claim_not_email" }),
    );
  });
});

describe("npm run token", () => {
  const cli = (args: string[], env: Record<string, string>) =>
    run(process.execPath, ["--import", "tsx", "src/cli/token.ts", ...args], {
      env: { ...process.env, ROLEMAPPING_DATA_DIR: dataDir, NODE_ENV: "development", ...env },
    });

  it("prints a token for the user and groups", async () => {
    const { stdout } = await cli(["bob@example.com", "--groups", "analysts, engineers", "--ttl", "120"], {});
    const token = stdout.trim();
    const issuer = await openDevIssuer(dataDir);
    const verified = await createJwtVerifier(devVerifierOptions(issuer)).verify(token);
    expect(verified.claims).toMatchObject({
      unique_name: "bob@example.com",
      groups: ["analysts", "engineers"],
    });
  });

  it("refuses a user or lifetime the sidecar of this environment would refuse, saying why", async () => {
    const failure = (args: string[], env: Record<string, string> = {}) =>
      cli(args, env).then(
        () => undefined,
        (e: { code: number; stderr: string; stdout: string }) => e,
      );
    // Three processes of their own, started together: each spends most of its time starting tsx.
    const [notAddress, tooLong, { stdout }] = await Promise.all([
      failure(["alice"]),
      failure(["bob@example.com", "--ttl", "172800"]),
      // Names are fine where the sidecar takes names.
      cli(["alice"], { USER_CLAIM_FORMAT: "any" }),
    ]);
    expect(notAddress?.code).toBe(2);
    expect(notAddress?.stderr).toMatch(/not one e-mail address.*USER_CLAIM_FORMAT=email/);
    expect(notAddress?.stdout).toBe("");
    expect(tooLong?.stderr).toMatch(/ttl: .*longer than 86400 s \(JWT_MAX_TOKEN_LIFETIME_S\)/);
    expect(stdout.trim().split(".")).toHaveLength(3);
  });

  it("refuses to run when NODE_ENV is production", async () => {
    const error = await cli(["bob@example.com"], { NODE_ENV: "production" }).then(
      () => undefined,
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr).toMatch(/production/);
    expect(error?.stdout).toBe("");
  });
});
