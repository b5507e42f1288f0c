import type { AuthorizerDeps } from "../../src/core/authorizer.js";
import { OperationCache } from "../../src/core/operation-cache.js";
import { StubGroups, uniqueName } from "../support/stub-identity.js";

/** Authorizer deps the core tests share (stub groups, the Authorization header, no introspection, batches of 3); `deps` overrides any. */
export function authorizerDeps(
  deps: Pick<AuthorizerDeps, "verifier" | "snapshot"> & Partial<AuthorizerDeps>,
): AuthorizerDeps {
  return {
    groups: new StubGroups(),
    operations: new OperationCache({ maxChars: 100_000 }),
    userName: uniqueName,
    tokenHeaders: ["Authorization"],
    allowIntrospection: false,
    maxBatch: 3,
    ...deps,
  };
}
