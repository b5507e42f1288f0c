/** A probe's answer: the status and the JSON body. */
export interface HealthAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** The health routes' paths. */
export const HEALTH_PATHS = ["/v1/health", "/healthz", "/readyz"] as const;

/**
 * The answer of a health route, or undefined for any other path: `/v1/health` (the old service's route, kept for
 * existing checks), `/healthz` (process up), `/readyz` (store reachable, snapshot loaded). Every listener serves
 * them alike, whatever serves its other routes.
 */
export function healthAnswer(path: string, ready: () => boolean): HealthAnswer | undefined {
  switch (path) {
    case "/v1/health":
      return { status: 200, body: "Alive" };
    case "/healthz":
      return { status: 200, body: { status: "ok" } };
    case "/readyz":
      return ready()
        ? { status: 200, body: { status: "ready" } }
        : { status: 503, body: { status: "not ready" } };
    default:
      return undefined;
  }
}
