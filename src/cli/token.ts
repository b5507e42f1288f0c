/**
 * LOCAL DEVELOPMENT token minting:
 *   npm run token -- alice@example.com --groups analysts,engineers [--ttl 3600]
 * Prints a token signed by the development issuer of ROLEMAPPING_DATA_DIR (default ./data).
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config/index.js";
import { InvalidArgumentError, isCoreError } from "../core/errors.js";
import { openDevIssuer } from "../identity/dev-issuer.js";
import { checkUserClaimFormat } from "../identity/user-claim-format.js";

const USAGE = "usage: npm run token -- <user> [--groups a,b] [--ttl seconds]";

async function main(): Promise<number> {
  if (process.env.NODE_ENV === "production") {
    console.error("refusing to mint a development token: NODE_ENV is production");
    return 1;
  }
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: { groups: { type: "string" }, ttl: { type: "string" }, help: { type: "boolean" } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length !== 1 || !positionals[0]) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const ttlSeconds = values.ttl === undefined ? 3600 : Number(values.ttl);
  const groups = (values.groups ?? "")
    .split(",")
    .map((group) => group.trim())
    .filter((group) => group.length > 0);
  const dataDir = process.env.ROLEMAPPING_DATA_DIR || "./data";
  try {
    checkAgainstSidecar(positionals[0], ttlSeconds);
    const issuer = await openDevIssuer(dataDir);
    const token = await issuer.mint({ user: positionals[0], groups, ttlSeconds });
    console.error(`LOCAL DEVELOPMENT token for ${positionals[0]} (groups: ${groups.join(", ") || "none"})`);
    console.log(token);
    return 0;
  } catch (error) {
    if (isCoreError(error) || error instanceof ConfigError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
}

// A token the sidecar of this environment would refuse is not printed: say why instead.
function checkAgainstSidecar(user: string, ttlSeconds: number): void {
  const { identity } = loadConfig(process.env);
  try {
    checkUserClaimFormat(user.trim(), identity.userClaimFormat, "unique_name");
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new InvalidArgumentError(
      "user",
      `${why}: the sidecar refuses it (USER_CLAIM_FORMAT=${identity.userClaimFormat})`,
    );
  }
  if (ttlSeconds > identity.maxTokenLifetimeS) {
    const max = identity.maxTokenLifetimeS;
    throw new InvalidArgumentError(
      "ttl",
      `the sidecar refuses tokens valid longer than ${max} s (JWT_MAX_TOKEN_LIFETIME_S)`,
    );
  }
}

process.exitCode = await main();
