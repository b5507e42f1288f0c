import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import {
  ConflictError,
  DeadlineExceededError,
  InvalidArgumentError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnavailableError,
} from "../../src/core/errors.js";
import { INTERNAL_ERROR_MESSAGE, toGrpcStatus } from "../../src/grpc/status.js";

describe("toGrpcStatus", () => {
  it.each([
    [
      new InvalidArgumentError("users[2]", "duplicate entry"),
      status.INVALID_ARGUMENT,
      "users[2]: duplicate entry",
    ],
    [new NotFoundError('role "x" not found'), status.NOT_FOUND, 'role "x" not found'],
    [new ConflictError("role_id", "bound elsewhere"), status.ALREADY_EXISTS, "role_id: bound elsewhere"],
    [new ConflictError("component_id", "taken"), status.ALREADY_EXISTS, "component_id: taken"],
    [new UnauthenticatedError("unknown bearer token"), status.UNAUTHENTICATED, "unknown bearer token"],
    [new UnavailableError("store down"), status.UNAVAILABLE, "store down"],
    [new DeadlineExceededError("store slow"), status.DEADLINE_EXCEEDED, "store slow"],
    [new PayloadTooLargeError("users", "too big"), status.RESOURCE_EXHAUSTED, "users: too big"],
  ])("maps %s", (error, code, details) => {
    expect(toGrpcStatus(error)).toEqual({ code, details });
  });

  it.each([new Error("pg: password authentication failed for user x"), "a string", undefined])(
    "hides an unexpected %s behind UNKNOWN and a fixed message",
    (error) => {
      expect(toGrpcStatus(error)).toEqual({ code: status.UNKNOWN, details: INTERNAL_ERROR_MESSAGE });
    },
  );
});
