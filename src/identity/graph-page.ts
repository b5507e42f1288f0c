import { UnavailableError } from "../core/errors.js";
import type { AccessTokenSource } from "./azure-token.js";
import { readBounded } from "./http-body.js";
import { fetchWithRetry } from "./http-retry.js";
import type { RetryPolicy } from "./http-retry.js";

/** What reading a Microsoft Graph collection needs. */
export interface GraphCollectionOptions {
  readonly tokens: AccessTokenSource;
  readonly graphBaseUrl: URL;
  /** Most pages followed. */
  readonly maxPages: number;
  readonly retry: RetryPolicy;
}

const MAX_PAGE_BYTES = 8 * 1024 * 1024;

/** One page of a collection: its items and the absolute URL of the next page, if any. */
interface GraphPage {
  readonly value: readonly unknown[];
  readonly next: string | undefined;
}

/**
 * Every item of a Graph collection, page after page through `@odata.nextLink`, within `deadline` (ms) and
 * `maxPages`. A 404 rejects with `notFound()`; any other failure with UnavailableError or DeadlineExceededError.
 */
export async function readGraphCollection(
  firstUrl: string,
  deadline: number,
  options: GraphCollectionOptions,
  what: string,
  notFound: () => Error,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let url: string | undefined = firstUrl;
  let pages = 0;
  while (url !== undefined) {
    if (++pages > options.maxPages) throw graphFailure(`more than ${options.maxPages} pages (${what})`);
    const page = await fetchPage(url, deadline, options, what, notFound);
    items.push(...page.value);
    url = page.next;
  }
  return items;
}

async function fetchPage(
  url: string,
  deadline: number,
  options: GraphCollectionOptions,
  what: string,
  notFound: () => Error,
): Promise<GraphPage> {
  let refreshedToken = false;
  for (;;) {
    const token = await options.tokens.token();
    const response = await fetchWithRetry(
      url,
      { headers: { authorization: `Bearer ${token}`, accept: "application/json" } },
      deadline,
      options.retry,
      `Microsoft Graph ${what}`,
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
      throw notFound();
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      // 403 usually means the app lacks GroupMember.Read.All (or Directory.Read.All).
      throw graphFailure(`HTTP ${response.status} (${what})`);
    }
    let json: unknown;
    try {
      json = JSON.parse(await readBounded(response, MAX_PAGE_BYTES));
    } catch (error) {
      if (error instanceof SyntaxError) throw graphFailure(`a page is not JSON (${what})`);
      throw error;
    }
    const value = (json as Record<string, unknown> | null)?.value;
    if (!Array.isArray(value)) throw graphFailure(`a page has no value list (${what})`);
    return {
      value,
      next: nextLink((json as Record<string, unknown>)["@odata.nextLink"], options.graphBaseUrl),
    };
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

/** A Graph failure as the core's UnavailableError. */
export function graphFailure(message: string): UnavailableError {
  return new UnavailableError(`Microsoft Graph: ${message}`);
}

/** The Graph base URL without trailing slashes, for appending paths. */
export function graphBase(url: URL): string {
  return url.href.replace(/\/+$/, "");
}
