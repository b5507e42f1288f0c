import { AsyncLocalStorage } from "node:async_hooks";

/** Who is calling the RoleMapping API, as the write audit records it. */
export interface ApiCallerInfo {
  readonly transport: "grpc" | "rest";
  /** The API credential's name (or the client certificate's subject); never the credential itself. */
  readonly name: () => string | undefined;
}

const scope = new AsyncLocalStorage<ApiCallerInfo>();
let openCalls = 0;

/**
 * Runs `work` with `caller` as the API caller of every store write it makes, until the promise it returns
 * settles. The transports authenticate; the write audit, several calls further down, reads who it was without
 * each layer passing it on.
 *
 * The storage is switched off whenever no API call is open: on Node 20 an enabled AsyncLocalStorage runs a hook
 * for every promise of the process, and after the first API call every webhook decision would pay for it
 * (each await about twice as dear) for the rest of the process's life.
 */
export function runAsApiCaller<T>(caller: ApiCallerInfo, work: () => Promise<T>): Promise<T> {
  openCalls++;
  let running: Promise<T>;
  try {
    running = scope.run(caller, work);
  } catch (error) {
    closeCall();
    throw error;
  }
  return running.finally(closeCall);
}

function closeCall(): void {
  openCalls--;
  if (openCalls === 0) scope.disable();
}

/** The API caller of the current call, or undefined outside one (startup seeding, tests). */
export function currentApiCaller(): ApiCallerInfo | undefined {
  return scope.getStore();
}
