import { trace, type Tracer } from "@opentelemetry/api";
import type { GroupProvider, TokenVerifier } from "../core/identity.js";
import type { RoleMappingStore } from "../store/port.js";
import { inSpan } from "./span.js";
import { wrapStore } from "./store-methods.js";

/** The verifier with a `token.verify` span per call (cache hits included); the token is never recorded. */
export function tracedVerifier(inner: TokenVerifier, tracer: Tracer): TokenVerifier {
  return {
    verify: (token) => inSpan(tracer, "token.verify", {}, () => inner.verify(token)),
  };
}

/** The group provider with a `groups.lookup` span per call, recording how many groups came back. */
export function tracedGroups(inner: GroupProvider, tracer: Tracer): GroupProvider {
  const pinChecks = inner.pinChecks?.bind(inner);
  return {
    groupsOf: (claims) =>
      inSpan(tracer, "groups.lookup", {}, async (span) => {
        const groups = await inner.groupsOf(claims);
        span.setAttribute("rolemapper.groups_count", groups.length);
        return groups;
      }),
    ...(pinChecks ? { pinChecks } : {}),
  };
}

/**
 * The store with a `store.<method>` span per call. The change-marker poll runs every second on its own; outside
 * any other span it would only be noise, so it is traced only as part of something larger.
 */
export function tracedStore(inner: RoleMappingStore, tracer: Tracer): RoleMappingStore {
  return wrapStore(inner, (method, call) => {
    if (method === "changeMarker" && trace.getActiveSpan() === undefined) return call();
    return inSpan(tracer, `store.${method}`, { "db.operation.name": method }, () => call());
  });
}
