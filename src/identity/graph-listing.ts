import type { DirectoryGroup } from "../core/identity.js";
import type { CoreLogger } from "../core/logger-port.js";
import { MAX_ID_LENGTH } from "../core/mapping.js";
import { graphBase, readGraphCollection, type GraphCollectionOptions } from "./graph-page.js";
import { rejectToken } from "./token-reasons.js";

/** Which attribute of a group becomes its name (AZURE_GROUP_NAME_ATTRIBUTE). */
export type GroupNameAttribute = "displayName" | "id";

/** What one transitive-membership listing needs. */
export interface GraphListingOptions extends GraphCollectionOptions {
  /** Only for the warning about groups this attribute cannot name. */
  readonly nameAttribute: GroupNameAttribute;
  readonly logger?: CoreLogger;
}

const GROUP_TYPE = "#microsoft.graph.group";
/** Longest group name or id a subject (`group:…`, 255 characters) can hold. */
export const MAX_GROUP_NAME = MAX_ID_LENGTH - "group:".length;

/**
 * Every group `oid` belongs to, directly or through nested groups: all pages of transitiveMemberOf, groups
 * only (directory roles and administrative units are dropped), each with its object id and display name.
 */
export async function listTransitiveGroups(
  oid: string,
  deadline: number,
  options: GraphListingOptions,
): Promise<DirectoryGroup[]> {
  const url = `${graphBase(options.graphBaseUrl)}/users/${encodeURIComponent(oid)}/transitiveMemberOf?$select=id,displayName&$top=999`;
  const items = await readGraphCollection(url, deadline, options, "membership listing", () =>
    rejectToken("directory_user_not_found", "the token's user is not in the directory"),
  );
  const groups = new Map<string, DirectoryGroup>();
  let skipped = 0;
  for (const item of items) {
    if (typeof item !== "object" || item === null) continue;
    const record = item as Record<string, unknown>;
    if (record["@odata.type"] !== GROUP_TYPE) continue;
    const id = usable(record.id);
    const name = usable(record.displayName);
    if ((options.nameAttribute === "id" ? id : name) === undefined) skipped += 1;
    if (id !== undefined) groups.set(id, { id, name });
  }
  if (skipped > 0) {
    options.logger?.warn(
      { skipped, attribute: options.nameAttribute },
      "groups without a usable name were skipped (null, empty or longer than a subject allows)",
    );
  }
  return [...groups.values()];
}

/** A group id or name a subject can hold, else undefined. */
export function usable(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_GROUP_NAME ? value : undefined;
}
