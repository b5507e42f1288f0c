import { DeadlineExceededError, UnavailableError } from "../core/errors.js";

/** One attempt of an outbound call, as reported to RetryPolicy.onAttempt. */
export interface HttpAttempt {
  /** The HTTP status, or undefined when no response came (network error, timeout). */
  readonly status: number | undefined;
  /** True for 429 and 503: the service asked to slow down. */
  readonly throttled: boolean;
}

/** How an outbound call to an identity service is retried. */
export interface RetryPolicy {
  /** Most attempts per request, the first included (default 4). */
  readonly maxAttempts: number;
  /** Timeout of one attempt (default 5 s); never beyond the caller's deadline. */
  readonly requestTimeoutMs: number;
  /** First backoff after a 5xx or network error, doubled each time (default 200 ms). */
  readonly baseDelayMs: number;
  /** Clock in milliseconds. */
  readonly now: () => number;
  /** Waits; injectable so tests need not sleep. */
  readonly sleep: (ms: number) => Promise<void>;
  /** Told of every attempt (for metrics); must not throw. */
  readonly onAttempt?: (attempt: HttpAttempt) => void;
}

/** The defaults of RetryPolicy. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 4,
  requestTimeoutMs: 5_000,
  baseDelayMs: 200,
  now: Date.now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * Sends a request, retrying throttling (429/503, honouring Retry-After), other 5xx and network errors, until
 * `maxAttempts` or the absolute `deadline` (ms) runs out; a Retry-After beyond the deadline ends it at once.
 * Returns the first response that is not retried (2xx or 4xx); the caller reads it.
 */
export async function fetchWithRetry(
  url: string,
  init: RequestInit,
  deadline: number,
  policy: RetryPolicy,
  what: string,
): Promise<Response> {
  let lastProblem = "no attempt made";
  let timedOut = false;
  for (let attempt = 1; attempt <= policy.maxAttempts; attempt++) {
    const remaining = deadline - policy.now();
    if (remaining <= 0) break;
    let delay: number;
    try {
      const response = await fetch(url, {
        ...init,
        redirect: "error",
        signal: AbortSignal.timeout(Math.min(policy.requestTimeoutMs, remaining)),
      });
      const throttled = response.status === 429 || response.status === 503;
      policy.onAttempt?.({ status: response.status, throttled });
      if (response.status < 500 && response.status !== 429) return response;
      await response.body?.cancel().catch(() => undefined);
      lastProblem = `HTTP ${response.status}`;
      timedOut = false;
      const retryAfter = throttled ? parseRetryAfter(response) : undefined;
      delay = retryAfter ?? policy.baseDelayMs * 2 ** (attempt - 1);
    } catch (error) {
      timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      policy.onAttempt?.({ status: undefined, throttled: false });
      lastProblem = timedOut ? "timed out" : "network error";
      delay = policy.baseDelayMs * 2 ** (attempt - 1);
    }
    if (attempt === policy.maxAttempts) break;
    if (policy.now() + delay >= deadline) {
      lastProblem += ` (next retry in ${delay} ms is past the time budget)`;
      break;
    }
    await policy.sleep(delay);
  }
  if (timedOut || policy.now() >= deadline) {
    throw new DeadlineExceededError(`${what}: no answer within the time budget (${lastProblem})`);
  }
  throw new UnavailableError(`${what} failed: ${lastProblem}`);
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or bad. */
export function parseRetryAfter(response: Response, now: number = Date.now()): number | undefined {
  const value = response.headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // HTTP dates always end in GMT; this keeps Date.parse from reading e.g. "-1" as a year.
  const date = value.endsWith("GMT") ? Date.parse(value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
