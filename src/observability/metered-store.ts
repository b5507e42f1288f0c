import type { RoleMappingStore } from "../core/store-port.js";
import { errorCode } from "./error-code.js";
import type { SidecarMetrics } from "./metrics.js";
import { wrapStore } from "./store-methods.js";

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
