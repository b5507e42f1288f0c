import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

/** Shadow mode: the previous service's webhook, asked the same question to compare (or to answer) with. */
export interface ShadowConfig {
  /** The previous service's `/v1/authenticate` (SHADOW_WEBHOOK_URL). */
  readonly url: string;
  /** Share of webhook requests also sent to it, 0 to 1 (SHADOW_SAMPLE). */
  readonly sample: number;
  /**
   * Calls to it in flight at once (SHADOW_MAX_IN_FLIGHT); past it a comparison is skipped and counted, or with
   * `shadow` the request is answered 500.
   */
  readonly maxInFlight: number;
  /** Bytes of Hasura's bodies in those calls at once (SHADOW_MAX_IN_FLIGHT_BYTES); past it, as past maxInFlight. */
  readonly maxBytesInFlight: number;
  /** Longest wait for its answer, from the call to the last byte (SHADOW_TIMEOUT_MS). */
  readonly timeoutMs: number;
  /** Whose answer Hasura gets: this sidecar's (`self`) or the previous service's (`shadow`). */
  readonly answer: "self" | "shadow";
}

/**
 * Reads SHADOW_*; undefined when SHADOW_WEBHOOK_URL is unset (shadow mode off). Operator configuration like
 * GRAPHQL_URL: the URL is trusted, only its form is checked.
 */
export function readShadow(env: EnvReader): ShadowConfig | undefined {
  const d = DEFAULTS.shadow;
  const url = env.url("SHADOW_WEBHOOK_URL");
  const answer = env.oneOf("SHADOW_ANSWER", ["self", "shadow"], d.answer);
  const sample = env.number("SHADOW_SAMPLE", d.sample, 0, 1);
  const maxInFlight = env.int("SHADOW_MAX_IN_FLIGHT", d.maxInFlight[answer], 1, 10_000);
  const maxBytesInFlight = env.int(
    "SHADOW_MAX_IN_FLIGHT_BYTES",
    d.maxBytesInFlight,
    64 * 1024,
    1024 * 1024 * 1024,
  );
  const timeoutMs = env.int("SHADOW_TIMEOUT_MS", d.timeoutMs, 10, 60_000);
  if (url === undefined) {
    if (answer === "shadow" && env.raw("SHADOW_WEBHOOK_URL") === undefined)
      env.fail("SHADOW_ANSWER", "shadow needs SHADOW_WEBHOOK_URL", answer, 0);
    return undefined;
  }
  return { url, sample, maxInFlight, maxBytesInFlight, timeoutMs, answer };
}
