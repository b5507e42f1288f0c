import type { Logger } from "pino";
import type { AuthorizationResult } from "../core/authorizer.js";
import { clip, MAX_ID_CHARS, MAX_NAME_CHARS } from "../observability/decision-log.js";
import { ThrottledWarning } from "../observability/throttled-warning.js";
import { compareAnswers, outcomeOf, roleInBody } from "./compare.js";
import type { ShadowAnswer, ShadowPost, ShadowReceiver } from "./shadow-client.js";

/** One webhook call as answered by this side, handed to the shadow mode before anything is sent. */
export interface ShadowedCall {
  /** Hasura's body exactly as received. */
  readonly rawBody: Buffer;
  readonly requestId: string | undefined;
  /** This side's decision; undefined when the body was refused before one (400). */
  readonly result: AuthorizationResult | undefined;
  /** This side's reason code (the decision's, or `bad_request`). */
  readonly reason: string;
  /** The status this side answers. */
  readonly status: number;
}

/** What a comparison keeps of a call while it waits: not Hasura's body, which may be up to the body limit. */
type ComparedCall = Omit<ShadowedCall, "rawBody">;

/** How the webhook sends an answer: its own, or the previous service's as received. */
export interface AnswerSender {
  self(): void;
  relay(status: number, contentType: string | undefined, body: Buffer): void;
}

/** What the webhook calls once per answered request, when shadow mode is on; it sends exactly one answer. */
export interface AnswerHook {
  answer(call: ShadowedCall, send: AnswerSender): void;
}

/** How one comparison came out (the label of rolemapper_shadow_comparisons_total). */
export type ComparisonResult = "agree" | "disagree" | "skipped" | "error";

/** What the shadow mode is built from. */
export interface ShadowModeOptions {
  readonly post: ShadowPost;
  readonly sample: number;
  /** Calls to the previous webhook in flight at once (SHADOW_MAX_IN_FLIGHT): past it, skipped or refused. */
  readonly maxInFlight: number;
  /**
   * Bytes of Hasura's bodies in those calls at once (SHADOW_MAX_IN_FLIGHT_BYTES): past it, the same as past
   * `maxInFlight`. A body is held by the HTTP client until its call ends; one alone is always let through.
   */
  readonly maxBytesInFlight: number;
  /** Whose answer Hasura gets. */
  readonly answer: "self" | "shadow";
  readonly logger: Pick<Logger, "warn">;
  readonly onComparison: (result: ComparisonResult) => void;
  /** With `shadow`: a request answered 500 without asking, `maxInFlight` calls (or their bytes) in flight. */
  readonly onOverLimit?: () => void;
  readonly random?: () => number;
}

const SYSTEM_ERROR = Buffer.from(JSON.stringify({ error: "System error" }));
const WARNING_INTERVAL_MS = 60_000;

/**
 * Asks the previous webhook the same question and compares. With `self`, this side's answer is sent first and the
 * previous service is asked afterwards (sampled, at most `maxInFlight` at once), so it never delays the answer;
 * with `shadow`, every request waits for the previous service, whose answer is relayed (500 if it fails, or at
 * once when `maxInFlight` calls are already waiting: the previous service stays the one that decides).
 */
export class ShadowMode implements AnswerHook {
  private inFlight = 0;
  private bytesInFlight = 0;
  private readonly unreachable: ThrottledWarning;
  private readonly overLimit: ThrottledWarning;
  private readonly random: () => number;

  constructor(private readonly options: ShadowModeOptions) {
    this.random = options.random ?? Math.random;
    const warn = (fields: object, message: string) => options.logger.warn(fields, message);
    this.unreachable = new ThrottledWarning(
      warn,
      "shadow_error",
      "the shadow webhook (SHADOW_WEBHOOK_URL) failed to answer; counted as result=error",
      WARNING_INTERVAL_MS,
    );
    this.overLimit = new ThrottledWarning(
      warn,
      "shadow_over_limit",
      "SHADOW_MAX_IN_FLIGHT calls (or SHADOW_MAX_IN_FLIGHT_BYTES of bodies) to the shadow webhook are waiting: " +
        "further requests are answered 500",
      WARNING_INTERVAL_MS,
    );
  }

  /** Calls in flight to the previous webhook now. */
  get pending(): number {
    return this.inFlight;
  }

  answer(call: ShadowedCall, send: AnswerSender): void {
    const full = this.isFull(call.rawBody.length);
    if (this.options.answer === "shadow") {
      if (full) return this.refuse(send);
      return this.ask(call, send);
    }
    send.self();
    if (this.options.sample < 1 && this.random() >= this.options.sample) return;
    if (full) return this.options.onComparison("skipped");
    this.ask(call, undefined);
  }

  // Full by count, or by bytes unless nothing is in flight (a body under the webhook's limit is never refused alone).
  private isFull(bytes: number): boolean {
    if (this.inFlight >= this.options.maxInFlight) return true;
    return this.bytesInFlight > 0 && this.bytesInFlight + bytes > this.options.maxBytesInFlight;
  }

  // Posts; `relayTo` gets the answer (or 500) when the previous service's answer is Hasura's. The comparison keeps
  // the call without its body, so once the client lets go of the body nothing here holds it.
  private ask({ rawBody, ...call }: ShadowedCall, relayTo: AnswerSender | undefined): void {
    this.inFlight++;
    this.bytesInFlight += rawBody.length;
    this.options.post(rawBody, new Comparison(this, call, rawBody.length, relayTo));
  }

  private refuse(send: AnswerSender): void {
    this.options.onComparison("skipped");
    this.options.onOverLimit?.();
    this.overLimit.record();
    send.relay(500, "application/json", SYSTEM_ERROR);
  }

  /** How a call ended (its answer, or undefined when it failed): relayed when asked to, then compared. */
  settle(
    call: ComparedCall,
    bytes: number,
    relayTo: AnswerSender | undefined,
    answer: ShadowAnswer | undefined,
  ): void {
    this.inFlight--;
    this.bytesInFlight -= bytes;
    if (answer === undefined) {
      relayTo?.relay(500, "application/json", SYSTEM_ERROR);
      this.unreachable.record();
      this.options.onComparison("error");
      return;
    }
    relayTo?.relay(answer.status, answer.contentType, answer.body);
    this.compare(call, answer);
  }

  // Counts and, on a disagreement, logs one comparison.
  private compare(call: ComparedCall, answer: ShadowAnswer): void {
    const self = {
      status: call.status,
      role: call.result?.outcome === "allow" ? call.result.role : undefined,
    };
    const shadow = { status: answer.status, role: roleInBody(answer.status, answer.body) };
    const result = compareAnswers(self, shadow);
    this.options.onComparison(result);
    if (result === "agree") return;
    this.options.logger.warn(
      {
        event: "shadow_diff",
        request_id: clip(call.requestId, MAX_ID_CHARS),
        user: call.result?.user,
        operation_type: call.result?.operationType,
        root_fields: (call.result?.rootFields ?? []).map((field) => clip(field, MAX_NAME_CHARS)),
        self: { outcome: outcomeOf(self.status), status: self.status, role: self.role, reason: call.reason },
        shadow: {
          outcome: outcomeOf(shadow.status),
          status: shadow.status,
          role: clip(shadow.role, MAX_NAME_CHARS),
        },
      },
      "shadow webhook decided differently",
    );
  }
}

// One call to the previous webhook: an object per call instead of a promise and its closures.
class Comparison implements ShadowReceiver {
  constructor(
    private readonly mode: ShadowMode,
    private readonly call: ComparedCall,
    private readonly bytes: number,
    private readonly relayTo: AnswerSender | undefined,
  ) {}

  answered(answer: ShadowAnswer): void {
    this.mode.settle(this.call, this.bytes, this.relayTo, answer);
  }

  failed(): void {
    this.mode.settle(this.call, this.bytes, this.relayTo, undefined);
  }
}
