import { isCoreError } from "../core/errors.js";

/** A failure as a metric label or span attribute: the core's error code, or "internal" for anything else. */
export function errorCode(error: unknown): string {
  return isCoreError(error) ? error.code : "internal";
}
