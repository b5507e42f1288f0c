import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import type { CoreLogger } from "../../src/core/identity.js";

/** One call made on a RecordingLogger. */
export interface LoggedEntry {
  readonly level: "info" | "warn" | "error";
  readonly obj: object;
  readonly msg: string | undefined;
}

/** A CoreLogger that prints nothing and keeps what it was told, for assertions. */
export class RecordingLogger implements CoreLogger {
  readonly entries: LoggedEntry[] = [];

  /** Records an info line. */
  info(obj: object, msg?: string): void {
    this.entries.push({ level: "info", obj, msg });
  }

  /** Records a warning. */
  warn(obj: object, msg?: string): void {
    this.entries.push({ level: "warn", obj, msg });
  }

  /** Records an error. */
  error(obj: object, msg?: string): void {
    this.entries.push({ level: "error", obj, msg });
  }

  /** The `event` fields logged so far, in order. */
  events(): unknown[] {
    return this.entries.map((entry) => (entry.obj as { event?: unknown }).event);
  }
}

/** A pino logger writing JSON lines to memory: `raw` is every byte written, `lines()` the parsed lines. */
export interface MemoryLogger {
  readonly logger: Logger;
  raw(): string;
  lines(): Record<string, unknown>[];
}

/** Builds a pino logger (synchronous, level info) whose output stays in memory. */
export function memoryLogger(): MemoryLogger {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const logger = pino({ level: "info" }, stream);
  const raw = () => chunks.join("");
  return {
    logger,
    raw,
    lines: () =>
      raw()
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
