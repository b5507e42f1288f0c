import type { Grant } from "../../src/core/mapping.js";
import type { Operation, OperationType } from "../../src/core/operation.js";
import { Snapshot } from "../../src/core/snapshot.js";

/** A snapshot from `{ role_id: [root fields] }` and `{ subject: [role ids] }`; component ids are `c-<role_id>`. */
export function snapshotOf(
  fieldsByRole: Readonly<Record<string, readonly string[]>>,
  rolesBySubject: Readonly<Record<string, readonly string[]>> = {},
): Snapshot {
  const grants: Grant[] = Object.entries(rolesBySubject).flatMap(([subject, roles]) =>
    roles.map((roleId) => ({ subject, roleId })),
  );
  return Snapshot.from({
    roles: Object.entries(fieldsByRole).map(([roleId, rootFields]) => ({
      roleId,
      componentId: `c-${roleId}`,
      rootFields,
    })),
    userGrants: grants.filter((grant) => grant.subject.startsWith("user:")),
    groupGrants: grants.filter((grant) => grant.subject.startsWith("group:")),
  });
}

/** An analysed operation, as analyzeOperation would return it. */
export function op(type: OperationType, ...rootFields: string[]): Operation {
  return { type, name: undefined, rootFields };
}

/** Shorthand for a query operation. */
export const q = (...rootFields: string[]): Operation => op("query", ...rootFields);
