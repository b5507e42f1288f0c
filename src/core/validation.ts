import { InvalidArgumentError } from "./errors.js";
import { MAX_ID_LENGTH } from "./mapping.js";

/** A non-empty identifier of at most 255 characters, without NUL or unpaired surrogates, checked as `field`. */
export function requireId(field: string, value: unknown): string {
  if (typeof value !== "string") throw new InvalidArgumentError(field, "expected a string");
  if (value.length === 0) throw new InvalidArgumentError(field, "must not be empty");
  if (value.length > MAX_ID_LENGTH) {
    throw new InvalidArgumentError(
      field,
      `must be at most ${MAX_ID_LENGTH} characters (got ${value.length})`,
    );
  }
  // PostgreSQL text cannot hold NUL (the write would fail as a 500), and an unpaired surrogate would be stored
  // as U+FFFD, i.e. not as the id the caller sent: both are refused up front.
  if (value.includes("\u0000")) throw new InvalidArgumentError(field, "must not contain NUL characters");
  if (UNPAIRED_SURROGATE.test(value)) {
    throw new InvalidArgumentError(field, "must be valid Unicode (it has an unpaired surrogate)");
  }
  return value;
}

const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A list of distinct ids, each checked like `requireId` and, when given, starting with `prefix`. */
export function requireIdList(field: string, value: unknown, maxItems: number, prefix?: string): string[] {
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, "expected a list of strings");
  if (value.length > maxItems) {
    throw new InvalidArgumentError(field, `at most ${maxItems} entries allowed (got ${value.length})`);
  }
  const seen = new Set<string>();
  return value.map((item, index) => {
    const id = requireId(`${field}[${index}]`, item);
    if (prefix !== undefined && (!id.startsWith(prefix) || id.length === prefix.length)) {
      throw new InvalidArgumentError(`${field}[${index}]`, `must start with "${prefix}" followed by a name`);
    }
    if (seen.has(id)) throw new InvalidArgumentError(`${field}[${index}]`, `duplicate entry "${id}"`);
    seen.add(id);
    return id;
  });
}
