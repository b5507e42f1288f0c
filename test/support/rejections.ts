import { expect } from "vitest";
import { UnauthenticatedError } from "../../src/core/errors.js";

/** The reason code `promise` was refused with; fails the test unless it rejects with UnauthenticatedError. */
export async function rejectionReason(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnauthenticatedError);
  return (error as UnauthenticatedError).reason;
}
