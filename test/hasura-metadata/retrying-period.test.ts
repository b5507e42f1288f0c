import { describe, expect, it } from "vitest";
import { RetryingPeriod } from "../../src/hasura-metadata/retrying-period.js";
import { manualSchedule } from "../support/manual-schedule.js";

describe("RetryingPeriod", () => {
  it("runs at once, backs off after failures up to the bound, and returns to the period after a success", async () => {
    const clock = manualSchedule();
    const outcomes = [false, false, false, false, true, true];
    const failures: [number, number][] = [];
    const loop = new RetryingPeriod({
      step: async () => {
        if (!outcomes.shift()) throw new Error("refused");
      },
      periodMs: 30_000,
      firstRetryMs: 250,
      maxRetryMs: 1_000,
      onFailure: (_error, retryInMs, count) => failures.push([retryInMs, count]),
      schedule: clock.schedule,
    });
    loop.start();
    const waits: number[] = [];
    for (let round = 0; round < 6; round++) {
      waits.push(clock.due[0]!.ms);
      clock.fire();
      await loop.settled();
    }
    expect(waits).toEqual([0, 250, 500, 1_000, 1_000, 30_000]);
    expect(failures).toEqual([
      [250, 1],
      [500, 2],
      [1_000, 3],
      [1_000, 4],
    ]);
    expect(clock.due.map((entry) => entry.ms)).toEqual([30_000]);
  });

  it("never waits longer than the period after a failure", async () => {
    const clock = manualSchedule();
    const loop = new RetryingPeriod({
      step: () => Promise.reject(new Error("down")),
      periodMs: 400,
      firstRetryMs: 250,
      maxRetryMs: 30_000,
      onFailure: () => undefined,
      schedule: clock.schedule,
    });
    loop.start();
    for (let round = 0; round < 3; round++) {
      clock.fire();
      await loop.settled();
    }
    expect(clock.due.map((entry) => entry.ms)).toEqual([400]);
  });

  it("when not repeating, runs until a round succeeds, started as the retry after failures elsewhere", async () => {
    const clock = manualSchedule();
    const outcomes = [false, true];
    const loop = new RetryingPeriod({
      step: async () => {
        if (!outcomes.shift()) throw new Error("refused");
      },
      periodMs: 30_000,
      firstRetryMs: 250,
      maxRetryMs: 30_000,
      repeat: false,
      onFailure: () => undefined,
      schedule: clock.schedule,
    });
    loop.start(2);
    expect(clock.pending()).toEqual([500]);
    clock.fire();
    await loop.settled();
    expect(clock.pending()).toEqual([1_000]);
    clock.fire();
    await loop.settled();
    expect(clock.pending()).toEqual([]);
  });

  it("starts no round once stopped", async () => {
    const clock = manualSchedule();
    let rounds = 0;
    const loop = new RetryingPeriod({
      step: async () => void rounds++,
      periodMs: 1_000,
      firstRetryMs: 250,
      maxRetryMs: 1_000,
      onFailure: () => undefined,
      schedule: clock.schedule,
    });
    loop.start();
    clock.fire();
    await loop.settled();
    loop.stop();
    expect(clock.due.every((entry) => entry.cancelled)).toBe(true);
    expect(rounds).toBe(1);
  });
});
