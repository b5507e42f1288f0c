import { Writable } from "node:stream";
import { pino, type Logger } from "pino";
import type { CoreLogger } from "../../src/core/logger-port.js";

/** One line a RecordingLogger was given. */
export interface LoggedEntry {
  readonly level: string;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/**
 * A logger that prints nothing and keeps every line for assertions: called directly where the code wants a
 * CoreLogger, or through `pino` where the wiring wants a pino Logger (its JSON lines are kept as written and
 * parsed when read).
 */
export class RecordingLogger implements CoreLogger {
  readonly #entries: LoggedEntry[] = [];
  readonly #direct: LoggedEntry[] = [];
  #written = "";
  #parsedUpTo = 0;
  #pino: Logger | undefined;

  /** `level` is the pino logger's (lines below it are neither written nor kept). */
  constructor(private readonly level = "info") {}

  /** Records an info line. */
  info(obj: object, msg?: string): void {
    this.#record({ level: "info", obj: obj as Record<string, unknown>, msg });
  }

  /** Records a warning. */
  warn(obj: object, msg?: string): void {
    this.#record({ level: "warn", obj: obj as Record<string, unknown>, msg });
  }

  /** Records an error. */
  error(obj: object, msg?: string): void {
    this.#record({ level: "error", obj: obj as Record<string, unknown>, msg });
  }

  /** A pino logger (synchronous) whose lines this logger keeps. */
  get pino(): Logger {
    this.#pino ??= pino({ level: this.level }, this.#sink());
    return this.#pino;
  }

  /** Every line, in order. */
  get entries(): readonly LoggedEntry[] {
    this.#parseWritten();
    return this.#entries;
  }

  /** The lines' objects (for pino, each whole JSON line). */
  lines(): Record<string, unknown>[] {
    return this.entries.map((entry) => entry.obj);
  }

  /** The `event` fields logged so far, in order. */
  events(): unknown[] {
    return this.entries.map((entry) => entry.obj.event);
  }

  /** The api_call audit lines. */
  calls(): Record<string, unknown>[] {
    return this.lines().filter((obj) => obj.event === "api_call");
  }

  /** What pino wrote, byte for byte. */
  raw(): string {
    return this.#written;
  }

  /** Everything logged as text, for "never logs X" assertions. */
  text(): string {
    return this.#written + JSON.stringify(this.#direct);
  }

  #record(entry: LoggedEntry): void {
    this.#parseWritten();
    this.#entries.push(entry);
    this.#direct.push(entry);
  }

  // Parsed when read, not when written: a sidecar under load writes many lines no test reads.
  #parseWritten(): void {
    const end = this.#written.lastIndexOf("\n") + 1;
    if (end <= this.#parsedUpTo) return;
    for (const line of this.#written.slice(this.#parsedUpTo, end).split("\n")) {
      if (line === "") continue;
      const obj = JSON.parse(line) as Record<string, unknown>;
      const level = pino.levels.labels[obj.level as number] ?? String(obj.level);
      this.#entries.push({ level, obj, msg: obj.msg as string | undefined });
    }
    this.#parsedUpTo = end;
  }

  #sink(): Writable {
    return new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        this.#written += chunk.toString();
        done();
      },
    });
  }
}
