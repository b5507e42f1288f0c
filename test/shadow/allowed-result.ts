import type { AuthorizationResult } from "../../src/core/authorizer.js";

/** Alice allowed as `sales` for one query of `sales_orders`: the webhook's own decision the shadow tests compare. */
export const allowed: AuthorizationResult = {
  outcome: "allow",
  role: "sales",
  user: "user:alice_example.com",
  groupCount: 1,
  operationType: "query",
  operationName: undefined,
  rootFields: ["sales_orders"],
  reason: "allowed",
};
