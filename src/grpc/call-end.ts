import type { EventEmitter } from "node:events";

/**
 * Runs `release` once, as soon as a streaming call ends in any way: cancelled by the client or its connection
 * gone (grpc-js reports both as `cancelled`), or ended by the server (`finish`, `error`, `close`).
 */
export function onceEnded(call: Pick<EventEmitter, "once">, release: () => void): void {
  let released = false;
  const once = (): void => {
    if (released) return;
    released = true;
    release();
  };
  for (const event of ["cancelled", "close", "finish", "error"]) call.once(event, once);
}

/** A count of held streaming calls with a ceiling; past it a call is refused before its handler runs. */
export class StreamCap {
  private held = 0;

  constructor(private readonly max: number) {}

  /** Calls held now. */
  get size(): number {
    return this.held;
  }

  /** Counts `call` until it ends and returns true, or returns false (nothing counted) when `max` are held. */
  admit(call: Pick<EventEmitter, "once">): boolean {
    if (this.held >= this.max) return false;
    this.held++;
    onceEnded(call, () => this.held--);
    return true;
  }
}
