import { AsyncLocalStorage } from "node:async_hooks";

/** Who is calling the RoleMapping API, as the write audit records it. */
export interface ApiCallerInfo {
  readonly transport: "grpc" | "rest";
  /** The API credential's name (or the client certificate's subject); never the credential itself. */
  readonly name: () => string | undefined;
}

const scope = new AsyncLocalStorage<ApiCallerInfo>();

/**
 * Runs `work` with `caller` as the API caller of every store write it makes. The transports authenticate; the
 * write audit, several calls further down, reads who it was without each layer passing it on.
 */
export function runAsApiCaller<T>(caller: ApiCallerInfo, work: () => T): T {
  return scope.run(caller, work);
}

/** The API caller of the current call, or undefined outside one (startup seeding, tests). */
export function currentApiCaller(): ApiCallerInfo | undefined {
  return scope.getStore();
}
