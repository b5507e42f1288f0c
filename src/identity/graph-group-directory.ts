import type { GroupDirectory } from "../core/identity.js";
import { graphBase, graphFailure, readGraphCollection, type GraphCollectionOptions } from "./graph-page.js";
import { usable } from "./graph-listing.js";

/** What name lookups in Microsoft Graph need. */
export interface GraphGroupDirectoryOptions extends GraphCollectionOptions {
  /** Time budget of one name's lookup, all pages and retries included. */
  readonly budgetMs: number;
}

/**
 * Group names looked up in Microsoft Graph: `/groups?$filter=displayName eq '…'`, every page. Graph may also
 * answer names that differ in case; only exact matches count, as grants compare names exactly.
 */
export function createGraphGroupDirectory(options: GraphGroupDirectoryOptions): GroupDirectory {
  return {
    async holdersOf(name) {
      const items = await readGraphCollection(
        groupFilterUrl(options.graphBaseUrl, name),
        options.retry.now() + options.budgetMs,
        options,
        "group lookup by name",
        () => graphFailure("HTTP 404 (group lookup by name)"),
      );
      const ids = new Set<string>();
      for (const item of items) {
        if (typeof item !== "object" || item === null) continue;
        const record = item as Record<string, unknown>;
        const id = usable(record.id);
        if (id !== undefined && record.displayName === name) ids.add(id);
      }
      return [...ids];
    },
  };
}

/**
 * The first page's URL of the groups named `name`: an OData string literal (each single quote doubled) in a
 * `$filter`, percent-encoded whole, quotes included.
 */
export function groupFilterUrl(graphBaseUrl: URL, name: string): string {
  const literal = `'${name.replaceAll("'", "''")}'`;
  const filter = encodeURIComponent(`displayName eq ${literal}`).replaceAll("'", "%27");
  return `${graphBase(graphBaseUrl)}/groups?$filter=${filter}&$select=id,displayName`;
}
