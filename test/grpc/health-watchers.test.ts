import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { HealthWatchers, type ServingStatus, type WatcherSink } from "../../src/grpc/health-watchers.js";

const INTERVAL_MS = 1_000;

/** A watcher's call as the notifier sees it: what it was sent, and whether it was ended. */
function sink(): WatcherSink & { sent: ServingStatus[]; ended: boolean } {
  const record = {
    sent: [] as ServingStatus[],
    ended: false,
    send: (status: ServingStatus) => void record.sent.push(status),
    end: () => void (record.ended = true),
  };
  return record;
}

let healthy: boolean;
let polls: number;

function notifier(max: number): HealthWatchers {
  return new HealthWatchers({
    current: () => {
      polls++;
      return healthy ? "SERVING" : "NOT_SERVING";
    },
    max,
    intervalMs: INTERVAL_MS,
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  healthy = true;
  polls = 0;
});

afterEach(() => {
  vi.useRealTimers();
});

describe("HealthWatchers", () => {
  it("holds at most `max` watchers; the next is refused with nothing sent, until one is released", () => {
    const watchers = notifier(2);
    const [a, b, c] = [sink(), sink(), sink()];
    const releaseA = watchers.hold(a, true);
    expect(watchers.hold(b, true)).toBeTypeOf("function");
    expect(watchers.hold(c, true)).toBeUndefined();
    expect(c.sent).toEqual([]);
    expect(watchers.size).toBe(2);

    releaseA?.();
    releaseA?.();
    expect(watchers.size).toBe(1);
    expect(watchers.hold(c, true)).toBeTypeOf("function");
    expect(c.sent).toEqual(["SERVING"]);
  });

  it("refuses every watcher when `max` is 0", () => {
    const watchers = notifier(0);
    expect(watchers.hold(sink(), true)).toBeUndefined();
    expect(watchers.size).toBe(0);
  });

  it("holds and counts a watcher of an unknown service, sending SERVICE_UNKNOWN once and nothing after", () => {
    const watchers = notifier(10);
    const unknown = sink();
    watchers.hold(unknown, false);
    expect(watchers.size).toBe(1);
    healthy = false;
    vi.advanceTimersByTime(5 * INTERVAL_MS);
    expect(unknown.sent).toEqual(["SERVICE_UNKNOWN"]);
    // Nobody watches a known service: no timer runs and health is never asked.
    expect(vi.getTimerCount()).toBe(0);
    expect(polls).toBe(0);
  });

  it("runs one timer for all watchers, asks health once per interval and sends a change to every watcher once", () => {
    const watchers = notifier(100);
    const sinks = Array.from({ length: 50 }, () => sink());
    for (const each of sinks) watchers.hold(each, true);
    expect(vi.getTimerCount()).toBe(1);
    polls = 0;

    vi.advanceTimersByTime(3 * INTERVAL_MS);
    expect(polls).toBe(3);
    healthy = false;
    vi.advanceTimersByTime(INTERVAL_MS);
    healthy = true;
    vi.advanceTimersByTime(INTERVAL_MS);
    for (const each of sinks) expect(each.sent).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
  });

  it("sends a watcher held after a change and before the next poll that status only once", () => {
    const watchers = notifier(10);
    const early = sink();
    const late = sink();
    watchers.hold(early, true);
    healthy = false;
    watchers.hold(late, true);
    vi.advanceTimersByTime(INTERVAL_MS);
    expect(early.sent).toEqual(["SERVING", "NOT_SERVING"]);
    expect(late.sent).toEqual(["NOT_SERVING"]);
  });

  it("stops the timer when the last watcher of a known service is released, and starts it again", () => {
    const watchers = notifier(10);
    const releases = [watchers.hold(sink(), true), watchers.hold(sink(), true), watchers.hold(sink(), false)];
    releases[0]?.();
    expect(vi.getTimerCount()).toBe(1);
    releases[1]?.();
    expect(vi.getTimerCount()).toBe(0);
    expect(watchers.size).toBe(1);

    const again = sink();
    watchers.hold(again, true);
    expect(vi.getTimerCount()).toBe(1);
    healthy = false;
    vi.advanceTimersByTime(INTERVAL_MS);
    expect(again.sent).toEqual(["SERVING", "NOT_SERVING"]);
  });

  it("ends every held call on endAll and holds none after", () => {
    const watchers = notifier(10);
    const sinks = [sink(), sink(), sink()];
    watchers.hold(sinks[0]!, true);
    watchers.hold(sinks[1]!, true);
    watchers.hold(sinks[2]!, false);
    watchers.endAll();
    expect(sinks.map((each) => each.ended)).toEqual([true, true, true]);
    expect(watchers.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
