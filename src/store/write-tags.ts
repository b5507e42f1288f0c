import { randomBytes } from "node:crypto";

/** Tags of answered writes remembered at most; an older one forgotten only costs its role a reload. */
const REMEMBERED = 10_000;

/**
 * The tags a store client puts on its writes' journal entries, and which of those writes it answered. An entry
 * is the client's own only when its write was answered successfully: a write that timed out may still commit
 * later, and its caller never applied it, so its entries must read as anybody else's.
 */
export class WriteTags {
  private readonly prefix = randomBytes(8).toString("hex");
  private next = 0;
  private readonly answered = new Set<string>();

  /** A fresh tag for one write (at most 64 characters, the journal's `writer` column). */
  tag(): string {
    return `${this.prefix}:${(this.next++).toString(36)}`;
  }

  /** Records that the write tagged `tag` succeeded. */
  answer(tag: string): void {
    this.answered.add(tag);
    if (this.answered.size > REMEMBERED) this.answered.delete(this.answered.values().next().value!);
  }

  /** True when `writer` tags a write of this client that succeeded. */
  isOwn(writer: unknown): boolean {
    return typeof writer === "string" && this.answered.has(writer);
  }

  /** Runs a write under a fresh tag and records it as answered once it resolves. */
  async run<T>(write: (tag: string) => Promise<T>): Promise<T> {
    const tag = this.tag();
    const result = await write(tag);
    this.answer(tag);
    return result;
  }
}
