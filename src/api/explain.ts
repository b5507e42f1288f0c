import type { Authorizer, Explanation } from "../core/authorizer.js";
import { InvalidArgumentError, UnauthenticatedError } from "../core/errors.js";
import type {
  ExplainDecisionRequest,
  ExplainDecisionResponse,
} from "../grpc/gen/rolemapper/v1/rolemapper.js";
import type { Loose } from "./route.js";

/**
 * ExplainDecision: what the webhook would answer, and why. A token the webhook would refuse is an answer
 * ("denied, because…"), not a failure of this call.
 */
export async function explainDecision(
  authorizer: Authorizer,
  request: Loose<ExplainDecisionRequest>,
): Promise<ExplainDecisionResponse> {
  const token = optionalText("token", request.token);
  let explanation: Explanation;
  try {
    explanation = await authorizer.explain({
      token,
      user: optionalText("user", request.user),
      groups: optionalList("groups", request.groups),
      query: optionalText("query", request.query) ?? "",
      operationName: optionalText("operation_name", request.operationName),
      requestedRole: optionalText("requested_role", request.requestedRole),
    });
  } catch (error) {
    if (token !== undefined && error instanceof UnauthenticatedError) return denied(error.reason);
    throw error;
  }
  return {
    allowed: explanation.allowed,
    role: explanation.role ?? "",
    reason: explanation.reason,
    user: explanation.user,
    groups: [...explanation.groups],
    rootFields: [...explanation.rootFields],
    heldRoles: [...explanation.heldRoles],
    candidateRoles: [...explanation.candidateRoles],
    reservedRoles: [...explanation.reservedRoles],
    coveringRoles: [...(explanation.coveringRoles ?? [])],
    combinedRole: explanation.combinedRole ?? "",
    groupPins: explanation.groupPins.map((check) => ({
      objectId: check.objectId,
      name: check.name ?? "",
      pinnedObjectId: check.pinnedObjectId ?? "",
      matched: check.matched,
      countsAs: [...check.countsAs],
    })),
  };
}

// A text field; absent or empty (proto3's default) is none.
function optionalText(field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new InvalidArgumentError(field, "expected a string");
  return value;
}

// A list field; the authorizer checks each entry.
function optionalList(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list: unknown = value;
  if (Array.isArray(list) && list.every((item: unknown): item is string => typeof item === "string"))
    return list;
  throw new InvalidArgumentError(field, "expected a list of strings");
}

function denied(reason: string): ExplainDecisionResponse {
  return {
    allowed: false,
    role: "",
    reason,
    user: "",
    groups: [],
    rootFields: [],
    heldRoles: [],
    candidateRoles: [],
    reservedRoles: [],
    groupPins: [],
    coveringRoles: [],
    combinedRole: "",
  };
}
