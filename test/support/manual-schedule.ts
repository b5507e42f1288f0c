import type { Schedule } from "../../src/hasura-metadata/retrying-period.js";

/** A scheduled run the test has not fired yet: its wait, and whether it was cancelled. */
export interface DueRun {
  readonly run: () => void;
  readonly ms: number;
  cancelled: boolean;
}

/** A scheduler the test drives: each scheduled run waits in `due` until fired. */
export function manualSchedule() {
  const due: DueRun[] = [];
  const schedule: Schedule = (run, ms) => {
    const entry: DueRun = { run, ms, cancelled: false };
    due.push(entry);
    return () => (entry.cancelled = true);
  };
  /** Runs the first run scheduled (which must not have been cancelled). */
  const fire = () => {
    const entry = due.shift();
    if (!entry || entry.cancelled) throw new Error("no round is due");
    entry.run();
  };
  /** Runs the first pending run scheduled with a wait of `ms`. */
  const fireAfter = (ms: number) => {
    const index = due.findIndex((entry) => !entry.cancelled && entry.ms === ms);
    if (index < 0) throw new Error(`no round is due in ${ms} ms`);
    due.splice(index, 1)[0]!.run();
  };
  /** The waits of the runs still pending, shortest first. */
  const pending = () =>
    due
      .filter((entry) => !entry.cancelled)
      .map((entry) => entry.ms)
      .sort((a, b) => a - b);
  return { due, schedule, fire, fireAfter, pending };
}
