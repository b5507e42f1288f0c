import { InvalidArgumentError } from "../core/errors.js";

/**
 * The fields of a JSON request body, after checking that it is an object holding every required field.
 * Throws InvalidArgumentError listing every missing field, so the caller fixes them all at once.
 */
export function requireFields<K extends string>(body: unknown, fields: readonly K[]): Record<K, unknown> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidArgumentError("body", "expected a JSON object");
  }
  const record = body as Record<string, unknown>;
  const missing = fields.filter((field) => record[field] === undefined || record[field] === null);
  if (missing.length > 0) {
    throw new InvalidArgumentError(
      missing.join(", "),
      `required field${missing.length > 1 ? "s" : ""} missing`,
    );
  }
  return record as Record<K, unknown>;
}
