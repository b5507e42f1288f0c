import { InvalidArgumentError } from "../core/errors.js";

/** The environment could not be turned into a configuration; `problems` names every bad variable. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join("\n  - ")}`);
    this.name = "ConfigError";
  }
}

/** Reads typed values from an environment, collecting every problem instead of stopping at the first. */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Readonly<Record<string, string | undefined>>) {}

  /** The raw value, or undefined when unset or empty. */
  raw(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value.trim() === "" ? undefined : value.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  /** One of `allowed`. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    return this.fail(name, `expected one of ${allowed.join(", ")}`, value, fallback);
  }

  /** An integer within [min, max]. */
  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      return this.fail(name, `expected an integer from ${min} to ${max}`, value, fallback);
    }
    return parsed;
  }

  /** A number within [min, max]. */
  number(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      return this.fail(name, `expected a number from ${min} to ${max}`, value, fallback);
    }
    return parsed;
  }

  /** A TCP port; 0 asks for an ephemeral one. */
  port(name: string, fallback: number): number {
    return this.int(name, fallback, 0, 65_535);
  }

  /** A number of seconds within [min, max], in milliseconds; `fallbackMs` when unset. */
  secondsAsMs(name: string, fallbackMs: number, min: number, max: number): number {
    return this.number(name, fallbackMs / 1000, min, max) * 1000;
  }

  /** `true`/`false` (also 1/0, yes/no). */
  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (["true", "1", "yes"].includes(value)) return true;
    if (["false", "0", "no"].includes(value)) return false;
    return this.fail(name, "expected true or false", value, fallback);
  }

  /** A JSON list of non-empty strings. */
  jsonList(name: string, fallback: readonly string[]): string[] {
    const value = this.raw(name);
    if (value === undefined) return [...fallback];
    const parsed = this.json(name, value);
    if (
      Array.isArray(parsed) &&
      parsed.length > 0 &&
      parsed.every((item) => typeof item === "string" && item)
    ) {
      return parsed as string[];
    }
    return this.fail(name, 'expected a non-empty JSON list of strings, e.g. ["a","b"]', value, [...fallback]);
  }

  /** A plain string, or a JSON list of strings when the value starts with `[`. */
  stringOrList(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    return value.startsWith("[") ? this.jsonList(name, []) : [value];
  }

  /** A JSON object. */
  jsonObject(name: string): Record<string, unknown> | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const parsed = this.json(name, value);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
    return this.fail(name, "expected a JSON object", value, undefined);
  }

  /** An absolute http(s) URL. */
  url(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    try {
      const url = new URL(value);
      if (url.protocol === "http:" || url.protocol === "https:") return value;
    } catch {
      // reported below
    }
    return this.fail(name, "expected an http(s) URL", value, undefined);
  }

  /** Records a problem with a variable; secrets are never echoed. */
  fail<T>(name: string, expected: string, value: string | undefined, fallback: T): T {
    const shown = value === undefined || /SECRET|TOKEN|PASSWORD|KEY/.test(name) ? "" : ` (got "${value}")`;
    this.problems.push(`${name}: ${expected}${shown}`);
    return fallback;
  }

  private json(name: string, value: string): unknown {
    try {
      return JSON.parse(value);
    } catch {
      return this.fail(name, "expected valid JSON", value, undefined);
    }
  }
}

/** Runs a parser that reports with InvalidArgumentError ("FIELD: message"), recording its complaint instead. */
export function checked<T>(env: EnvReader, fallback: T, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    env.problems.push(error.message);
    return fallback;
  }
}
