/** How Hasura reads a webhook's status: 200 runs the request under a role, 401 denies it, anything else fails it. */
export type ShadowOutcome = "allow" | "deny" | "other";

/** One side's answer as compared: its status, and the role it granted (a 200's `X-Hasura-Role`). */
export interface ComparedAnswer {
  readonly status: number;
  readonly role: string | undefined;
}

/** The outcome Hasura takes from a status. */
export function outcomeOf(status: number): ShadowOutcome {
  if (status === 200) return "allow";
  if (status === 401) return "deny";
  return "other";
}

/** The two webhooks agree when Hasura would act alike: same outcome and, when both allow, the same role. */
export function compareAnswers(self: ComparedAnswer, shadow: ComparedAnswer): "agree" | "disagree" {
  const outcome = outcomeOf(self.status);
  if (outcome !== outcomeOf(shadow.status)) return "disagree";
  return outcome !== "allow" || self.role === shadow.role ? "agree" : "disagree";
}

/**
 * The role in a 200 body (`{"X-Hasura-Role": …}`, any case, as Hasura reads session variables); undefined for any
 * other status or a body without one.
 */
export function roleInBody(status: number, body: Buffer): string | undefined {
  if (status !== 200) return undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    if (typeof parsed !== "object" || parsed === null) return undefined;
    for (const [key, value] of Object.entries(parsed)) {
      if (key.toLowerCase() === "x-hasura-role") return typeof value === "string" ? value : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
