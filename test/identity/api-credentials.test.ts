import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidArgumentError, UnauthenticatedError, UnavailableError } from "../../src/core/errors.js";
import { ApiTokens, authenticateCaller, requireApiAuth } from "../../src/identity/api-credentials.js";

const A = "aaaaaaaaaaaaaaaaaaaa";
const B = "bbbbbbbbbbbbbbbbbbbb";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "api-credentials-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("ApiTokens", () => {
  it("accepts named and bare tokens from the list, naming bare ones by position", async () => {
    const tokens = ApiTokens.load({ tokens: ` provisioner:${A} , ${B} ` });
    expect(await tokens.authenticate(`Bearer ${A}`)).toEqual({ name: "provisioner", method: "token" });
    expect(await tokens.authenticate(`bearer ${B}`)).toEqual({ name: "token-2", method: "token" });
  });

  it.each([
    [undefined, "token_missing"],
    ["", "token_missing"],
    [`Basic ${A}`, "token_bad_scheme"],
    [`Bearer`, "token_bad_scheme"],
    [`Bearer ${A}x`, "token_unknown"],
    [`Bearer provisioner:${A}`, "token_unknown"],
  ])("refuses %j as %s", async (header, reason) => {
    const tokens = ApiTokens.load({ tokens: `provisioner:${A}` });
    const error = await tokens.authenticate(header).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthenticatedError);
    expect((error as UnauthenticatedError).reason).toBe(reason);
  });

  it.each([
    [`short:abc`, /ROLEMAPPER_API_TOKENS: entry 1: a token needs at least 16 characters/],
    [`x:${A},x:${B}`, /duplicate name "x"/],
    [`x:${A},`, /entry 2: a token needs/],
  ])("refuses the list %j at load time", (list, message) => {
    expect(() => ApiTokens.load({ tokens: list })).toThrow(message);
  });

  it("reads the file with comments and blank lines, and fails at load when it cannot", async () => {
    const file = join(dir, "tokens-a");
    await writeFile(file, `# rotated monthly\n\nci:${A}\r\n  ${B}  \n`);
    const tokens = ApiTokens.load({ tokensFile: file });
    expect((await tokens.authenticate(`Bearer ${A}`)).name).toBe("ci");
    expect((await tokens.authenticate(`Bearer ${B}`)).name).toBe("file-token-2");
    expect(() => ApiTokens.load({ tokensFile: join(dir, "missing") })).toThrow(InvalidArgumentError);
    expect(() => ApiTokens.load({ tokensFile: join(dir, "missing") })).toThrow(/ROLEMAPPER_API_TOKENS_FILE/);
  });

  it("re-reads the file once the check interval has passed", async () => {
    const file = join(dir, "tokens-b");
    await writeFile(file, `ci:${A}\n`);
    const tokens = ApiTokens.load({ tokensFile: file, fileCheckIntervalMs: 0 });
    await writeFile(file, `ci:${B}\n`);
    await expect(tokens.authenticate(`Bearer ${A}`)).rejects.toBeInstanceOf(UnauthenticatedError);
    expect((await tokens.authenticate(`Bearer ${B}`)).name).toBe("ci");
  });

  it("keeps the tokens it read within the check interval", async () => {
    const file = join(dir, "tokens-c");
    await writeFile(file, `ci:${A}\n`);
    const tokens = ApiTokens.load({ tokensFile: file, fileCheckIntervalMs: 3_600_000 });
    await writeFile(file, `ci:${B}\n`);
    expect((await tokens.authenticate(`Bearer ${A}`)).name).toBe("ci");
  });

  it("refuses everyone when the rotated file is unusable, rather than keep old tokens", async () => {
    const file = join(dir, "tokens-d");
    await writeFile(file, `ci:${A}\n`);
    const tokens = ApiTokens.load({ tokensFile: file, fileCheckIntervalMs: 0 });
    await writeFile(file, `ci:tooshort\n`);
    await expect(tokens.authenticate(`Bearer ${A}`)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("requireApiAuth and authenticateCaller", () => {
  it("refuses a setup with no tokens, no client CA and no insecure flag", () => {
    expect(() => requireApiAuth({}, false, "REST")).toThrow(/REST: no API tokens/);
    expect(() => requireApiAuth({ tokens: ApiTokens.load({ tokens: "" }) }, false, "REST")).toThrow();
    expect(() => requireApiAuth({}, true, "gRPC")).not.toThrow();
    expect(() => requireApiAuth({ insecure: true }, false, "gRPC")).not.toThrow();
  });

  it("uses the token when configured, else the certificate, else anonymous only when insecure", async () => {
    const tokens = ApiTokens.load({ tokens: `ci:${A}` });
    await expect(authenticateCaller({ tokens }, undefined, "cn:x")).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    expect(await authenticateCaller({}, undefined, "cn:x")).toEqual({ name: "cn:x", method: "certificate" });
    expect(await authenticateCaller({ insecure: true }, undefined, undefined)).toEqual({
      name: "anonymous",
      method: "none",
    });
    await expect(authenticateCaller({}, `Bearer ${A}`, undefined)).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
  });
});
