/** The previous service's answer, as received. */
export interface ShadowAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Told how one call ended: exactly one of the two is called. */
export interface ShadowReceiver {
  answered(answer: ShadowAnswer): void;
  failed(error: Error): void;
}

/** Posts Hasura's body to the previous webhook; `receiver` learns how it ended. */
export type ShadowPost = (body: Buffer, receiver: ShadowReceiver) => void;

/** Its answers are a few dozen bytes; a larger one is not a webhook answer and is not read further. */
export const MAX_SHADOW_ANSWER_BYTES = 64 * 1024;

/** How a call ends when its deadline passes first. */
export class ShadowTimeoutError extends Error {
  readonly code = "SHADOW_TIMEOUT";
  constructor(timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

/** How a call ends when the previous service's answer is not one a webhook gives (too large, or not HTTP). */
export class ShadowAnswerError extends Error {
  constructor(
    readonly code: "SHADOW_ANSWER_TOO_LARGE" | "SHADOW_BAD_ANSWER",
    message: string,
  ) {
    super(message);
  }
}
