import type { RoleMappingStore } from "../core/store-port.js";
import { errorCode } from "./error-code.js";
import type { SidecarMetrics } from "./metrics.js";

/** Every call of the store port, for decorators that wrap each one the same way. */
export const STORE_METHODS = [
  "loadAll",
  "changeMarker",
  "changesSince",
  "loadRoles",
  "checksum",
  "upsertRole",
  "setUserRoles",
  "setGroupRoles",
  "loadGroupPins",
  "loadGroupPinsOf",
  "pinGroups",
  "deleteRole",
  "getRole",
  "getRoleByComponent",
  "getRoleGrants",
  "listRoles",
  "listSubjectRoles",
  "ping",
  "close",
] as const satisfies readonly (keyof RoleMappingStore)[];

/** The name of one store call. */
export type StoreMethod = (typeof STORE_METHODS)[number];

/** Runs one store call: the method's name and the call itself. */
export type StoreCallWrapper = <T>(method: StoreMethod, call: () => Promise<T>) => Promise<T>;

/**
 * A store whose every call goes through `wrap`; the calls themselves still reach `inner` unchanged. A change
 * feed (watchChanges) is no call to wrap and is passed on as it is.
 */
export function wrapStore(inner: RoleMappingStore, wrap: StoreCallWrapper): RoleMappingStore {
  const wrapped: Partial<Record<StoreMethod | "watchChanges", unknown>> = {};
  for (const method of STORE_METHODS) {
    const call = inner[method] as (...args: unknown[]) => Promise<unknown>;
    wrapped[method] = (...args: unknown[]) => wrap(method, () => call.apply(inner, args));
  }
  if (inner.watchChanges) wrapped.watchChanges = inner.watchChanges.bind(inner);
  return wrapped as RoleMappingStore;
}

/** The store with each call's latency and failures counted in `metrics`. */
export function instrumentStore(store: RoleMappingStore, metrics: SidecarMetrics): RoleMappingStore {
  return wrapStore(store, async (method, call) => {
    const started = performance.now();
    try {
      const result = await call();
      metrics.observeStoreCall(method, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      metrics.observeStoreCall(method, (performance.now() - started) / 1000, errorCode(error));
      throw error;
    }
  });
}
