import { describe, expect, it } from "vitest";
import { currentApiCaller, runAsApiCaller } from "../../src/observability/api-caller-scope.js";

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const caller = (name: string) => ({ transport: "grpc" as const, name: () => name });
const nameNow = () => currentApiCaller()?.name();

describe("the API caller scope", () => {
  it("is the caller across awaits inside the call, and nobody outside it", async () => {
    expect(nameNow()).toBeUndefined();
    const seen = await runAsApiCaller(caller("provisioner"), async () => {
      const first = nameNow();
      await tick();
      await Promise.resolve();
      return [first, nameNow()];
    });
    expect(seen).toEqual(["provisioner", "provisioner"]);
    expect(nameNow()).toBeUndefined();
  });

  it("keeps each of two overlapping calls' caller while the other ends first", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const long = runAsApiCaller(caller("long"), async () => {
      await held;
      await tick();
      return nameNow();
    });
    const short = await runAsApiCaller(caller("short"), async () => {
      await tick();
      return nameNow();
    });
    release();
    expect([short, await long]).toEqual(["short", "long"]);
  });

  it("works again after every call has ended, and passes a failure through", async () => {
    await runAsApiCaller(caller("one"), async () => undefined);
    await expect(
      runAsApiCaller(caller("two"), async () => {
        await tick();
        throw new Error(`failed as ${nameNow()}`);
      }),
    ).rejects.toThrow("failed as two");
    expect(await runAsApiCaller(caller("three"), async () => (await tick(), nameNow()))).toBe("three");
    expect(nameNow()).toBeUndefined();
  });
});
