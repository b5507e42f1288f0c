import { pino, type Logger } from "pino";
import { loadConfig } from "../../src/config/index.js";
import { createLocalKeySet } from "../../src/identity/key-set.js";
import { buildIdentity } from "../../src/wiring/identity.js";
import { JwksIssuer } from "../support/jwks-issuer.js";

export type LocalIdentity = ReturnType<typeof buildIdentity>;

/**
 * Runs `use` with the identity the sidecar builds (caching JWT verifier from buildIdentity over a local key set)
 * for the tokens of a fresh local issuer, then stops the issuer; `env` adds settings, `logger` defaults to silent.
 */
export async function withLocalIdentity<T>(
  options: { readonly env?: Readonly<Record<string, string>>; readonly logger?: Logger },
  use: (issuer: JwksIssuer, identity: LocalIdentity) => Promise<T>,
): Promise<T> {
  const issuer = await JwksIssuer.start();
  try {
    const config = loadConfig({
      JWKS_URL: "http://127.0.0.1:9/jwks.json",
      JWT_ISSUER: issuer.url,
      JWT_AUDIENCE: issuer.audience,
      ROLEMAPPER_API_INSECURE: "true",
      ...options.env,
    });
    const identity = buildIdentity(config, options.logger ?? pino({ level: "silent" }), {
      keys: createLocalKeySet(issuer.jwks()),
    });
    return await use(issuer, identity);
  } finally {
    await issuer.close();
  }
}
