import type { CoreLogger } from "../core/logger-port.js";
import type { WriteAudit } from "../core/write-audit.js";
import { errorCode } from "./error-code.js";
import type { SidecarMetrics } from "./metrics.js";

/** Where write audit lines and counts go. */
export interface WriteAuditOptions {
  readonly logger: CoreLogger;
  readonly metrics?: SidecarMetrics;
}

/**
 * One `mapping_write` line per store write of the mapping service — who (the API credential's name), what
 * (operation and role), the counts before and after as the store counted them in the write's transaction, and the
 * outcome — and the write counted by transport, operation and outcome. Only counts, never a user or group.
 */
export function writeAuditLog(options: WriteAuditOptions): WriteAudit {
  return {
    written({ caller, operation, roleId, before, ms, result }) {
      const base = {
        event: "mapping_write",
        transport: caller.transport,
        caller: caller.name,
        operation,
        role_id: roleId,
        before,
      };
      if (result.ok) {
        options.logger.info({ ...base, after: result.after, ...result.detail, outcome: "ok", ms });
        options.metrics?.observeWrite(caller.transport, operation, "ok");
        return;
      }
      const code = errorCode(result.error);
      options.logger.warn({ ...base, outcome: "error", error_code: code, ms });
      options.metrics?.observeWrite(caller.transport, operation, code);
    },
  };
}
