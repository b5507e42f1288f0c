/**
 * The messages between the shadow client's two sides (shadow-worker-client.ts in the main thread, shadow-worker.ts
 * on its own thread). Each carries every call (or answer) of one event-loop turn: their bytes packed into one
 * ArrayBuffer, transferred rather than copied, with parallel arrays of numbers and strings beside it.
 */

/** Calls to make: call `first + i` posts the bytes from `ends[i - 1]` (0 for the first) to `ends[i]`. */
export interface PostBatch {
  readonly kind: "posts";
  readonly first: number;
  readonly ends: number[];
  readonly bytes: ArrayBuffer;
}

/**
 * How calls ended: `statuses[i]` 0 when call `ids[i]` failed (`errors[i]` and `codes[i]` then say why, its bytes
 * are empty), else its answer's status, content type and body (the bytes up to `ends[i]`).
 */
export interface AnswerBatch {
  readonly kind: "answers";
  readonly ids: number[];
  readonly statuses: number[];
  readonly contentTypes: (string | null)[];
  readonly errors: (string | null)[];
  readonly codes: (string | null)[];
  readonly ends: number[];
  readonly bytes: ArrayBuffer;
}

/** To the worker: calls to make, or close (its pool closed, its last answers sent, then `closed`). */
export type ToShadowWorker = PostBatch | { readonly kind: "close" };

/** From the worker. */
export type FromShadowWorker = AnswerBatch | { readonly kind: "closed" };

/** What the worker is started with (workerData). */
export interface ShadowWorkerData {
  readonly url: string;
  readonly timeoutMs: number;
  readonly connections: number;
  /** How long answers are gathered before they are sent back: 0, the end of the event-loop turn. */
  readonly gatherMs: number;
}

/** Runs `flush` once what is gathered now is to be sent: `gatherMs` later, or at the end of this event-loop turn. */
export function scheduleFlush(gatherMs: number, flush: () => void): void {
  if (gatherMs > 0) setTimeout(flush, gatherMs).unref();
  else setImmediate(flush);
}

/** The byte ranges' ends and one buffer of their own holding `parts` one after the other (a transferable copy). */
export function pack(parts: readonly Uint8Array[], size: number): { ends: number[]; bytes: ArrayBuffer } {
  const packed = new Uint8Array(new ArrayBuffer(size));
  const ends: number[] = new Array<number>(parts.length);
  let offset = 0;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    packed.set(part, offset);
    offset += part.length;
    ends[i] = offset;
  }
  return { ends, bytes: packed.buffer };
}

/** The `index`th byte range of a packed buffer, as a view on it (no copy). */
export function unpacked(bytes: ArrayBuffer, ends: readonly number[], index: number): Buffer {
  const start = index === 0 ? 0 : ends[index - 1]!;
  return Buffer.from(bytes, start, ends[index]! - start);
}
