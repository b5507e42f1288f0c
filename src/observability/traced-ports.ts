import { trace, type Tracer } from "@opentelemetry/api";
import type { GroupProvider, TokenVerifier } from "../core/identity.js";
import type { RoleMappingStore } from "../core/store-port.js";
import { inSpan } from "./span.js";
import { wrapStore } from "./store-calls.js";

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
    ...(inner.claimsOnly ? { claimsOnly: true } : {}),
    groupsOf: (claims) =>
      inSpan(tracer, "groups.lookup", {}, async (span) => {
        const groups = await inner.groupsOf(claims);
        span.setAttribute("rolemapper.groups_count", groups.length);
        return groups;
      }),
    ...(pinChecks ? { pinChecks } : {}),
  };
}

// The calls a replica makes on its own every poll (about every second): the marker, and the journal after it.
const POLLED: ReadonlySet<string> = new Set(["changeMarker", "changesSince"]);

/**
 * The store with a `store.<method>` span per call. The polls (marker, journal) run every second on their own; outside
 * any other span they would only be noise, so they are traced only as part of something larger.
 */
export function tracedStore(inner: RoleMappingStore, tracer: Tracer): RoleMappingStore {
  return wrapStore(inner, (method, call) => {
    if (POLLED.has(method) && trace.getActiveSpan() === undefined) return call();
    return inSpan(tracer, `store.${method}`, { "db.operation.name": method }, () => call());
  });
}
