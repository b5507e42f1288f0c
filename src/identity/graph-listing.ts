import { UnavailableError } from "../core/errors.js";
import type { CoreLogger } from "../core/identity.js";
import { MAX_ID_LENGTH } from "../core/mapping.js";
import type { AccessTokenSource } from "./azure-token.js";
import { readBounded } from "./http-body.js";
import { fetchWithRetry } from "./http-retry.js";
import type { RetryPolicy } from "./http-retry.js";
import { rejectToken } from "./token-reasons.js";

/** Which attribute of a group becomes its name (AZURE_GROUP_NAME_ATTRIBUTE). */
export type GroupNameAttribute = "displayName" | "id";

/** What one transitive-membership listing needs. */
export interface GraphListingOptions {
  readonly tokens: AccessTokenSource;
  readonly graphBaseUrl: URL;
  readonly nameAttribute: GroupNameAttribute;
  readonly maxPages: number;
  readonly retry: RetryPolicy;
  readonly logger?: CoreLogger;
}

const GROUP_TYPE = "#microsoft.graph.group";
const MAX_PAGE_BYTES = 8 * 1024 * 1024;
const MAX_GROUP_NAME = MAX_ID_LENGTH - "group:".length;

/**
 * Every group `oid` belongs to, directly or through nested groups: all pages of transitiveMemberOf, groups
 * only (directory roles and administrative units are dropped), named by `nameAttribute`.
 */
export async function listTransitiveGroups(
  oid: string,
  deadline: number,
  options: GraphListingOptions,
): Promise<string[]> {
  const base = options.graphBaseUrl.href.replace(/\/+$/, "");
  let url: string | undefined =
    `${base}/users/${encodeURIComponent(oid)}/transitiveMemberOf?$select=id,displayName&$top=999`;
  const names = new Set<string>();
  let skipped = 0;
  let pages = 0;
  while (url !== undefined) {
    if (++pages > options.maxPages) throw graphFailure(`more than ${options.maxPages} pages of memberships`);
    const page = await fetchPage(url, deadline, options);
    for (const item of page.value) {
      if (
        typeof item !== "object" ||
        item === null ||
        (item as Record<string, unknown>)["@odata.type"] !== GROUP_TYPE
      ) {
        continue;
      }
      const name = (item as Record<string, unknown>)[options.nameAttribute];
      if (typeof name === "string" && name.length > 0 && name.length <= MAX_GROUP_NAME) names.add(name);
      else skipped += 1;
    }
    url = nextLink(page.next, options.graphBaseUrl);
  }
  if (skipped > 0) {
    options.logger?.warn(
      { skipped, attribute: options.nameAttribute },
      "groups without a usable name were skipped (null, empty or longer than a subject allows)",
    );
  }
  return [...names];
}

interface Page {
  readonly value: readonly unknown[];
  readonly next: unknown;
}

async function fetchPage(url: string, deadline: number, options: GraphListingOptions): Promise<Page> {
  let refreshedToken = false;
  for (;;) {
    const token = await options.tokens.token();
    const response = await fetchWithRetry(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: "application/json" } },
      deadline,
      options.retry,
      "Microsoft Graph group listing",
    );
    if (response.status === 401 && !refreshedToken) {
      // The app token was revoked or expired early: fetch a new one, once.
      await response.body?.cancel();
      options.tokens.invalidate(token);
      refreshedToken = true;
      continue;
    }
    if (response.status === 404) {
      await response.body?.cancel();
      throw rejectToken("directory_user_not_found", "the token's user is not in the directory");
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      // 403 usually means the app lacks GroupMember.Read.All (or Directory.Read.All).
      throw graphFailure(`HTTP ${response.status} listing memberships`);
    }
    let json: unknown;
    try {
      json = JSON.parse(await readBounded(response, MAX_PAGE_BYTES));
    } catch (error) {
      if (error instanceof SyntaxError) throw graphFailure("a page is not JSON");
      throw error;
    }
    const value = (json as Record<string, unknown> | null)?.value;
    if (!Array.isArray(value)) throw graphFailure("a page has no value list");
    return { value, next: (json as Record<string, unknown>)["@odata.nextLink"] };
  }
}

/** The next page as given by Graph; only on Graph's own origin, since the request carries the app's token. */
function nextLink(next: unknown, base: URL): string | undefined {
  if (next === undefined || next === null) return undefined;
  if (typeof next !== "string") throw graphFailure("@odata.nextLink is not a string");
  let url: URL;
  try {
    url = new URL(next);
  } catch {
    throw graphFailure("@odata.nextLink is not a URL");
  }
  if (url.origin !== base.origin) throw graphFailure("@odata.nextLink points to another host");
  return url.href;
}

function graphFailure(message: string): UnavailableError {
  return new UnavailableError(`Microsoft Graph: ${message}`);
}
