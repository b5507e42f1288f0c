/** What `run` throws, or undefined when it returns: for asserting on a synchronous error's type and fields. */
export function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
