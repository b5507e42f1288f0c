import { postWebhook } from "./http.js";

/** What a load loop saw: HTTP statuses and connection-level errors (by code), counted. */
export interface LoadTally {
  readonly statuses: Map<number, number>;
  readonly errors: Map<string, number>;
}

/**
 * Sends webhook decisions with `concurrency` requests in flight until stopped, to whatever `target()` returns at
 * the moment each request starts (so a test can move the load to a restarted replica).
 */
export function startLoad(
  target: () => string,
  body: () => unknown,
  concurrency: number,
): { tally: LoadTally; stop(): Promise<void> } {
  const tally: LoadTally = { statuses: new Map(), errors: new Map() };
  let running = true;
  const worker = async () => {
    while (running) {
      try {
        const answer = await postWebhook(target(), body());
        tally.statuses.set(answer.status, (tally.statuses.get(answer.status) ?? 0) + 1);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
        tally.errors.set(code, (tally.errors.get(code) ?? 0) + 1);
        // A refused connection fails at once; do not spin.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
  };
  const workers = Array.from({ length: concurrency }, () => worker());
  return {
    tally,
    async stop() {
      running = false;
      await Promise.all(workers);
    },
  };
}

/** Sum of the counts. */
export function total(counts: Map<unknown, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}
