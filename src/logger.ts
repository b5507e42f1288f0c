import { pino, type Logger } from "pino";

/** Keys whose values never reach a log line at the top level of a line. */
const REDACTED_TOP = ["token", "authorization", "secret", "tokens", "password"];

/** Paths whose values never reach a log line, wherever they appear. */
const REDACTED = [
  ...REDACTED_TOP,
  "*.token",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "*.secret",
  "*.clientSecret",
  "*.adminSecret",
  "*.tokens",
  "*.password",
];

/** Lines gathered up to this many bytes before one write, or written PERIODIC_FLUSH_MS after the first at most. */
const MIN_WRITE_BYTES = 4096;
const PERIODIC_FLUSH_MS = 100;

/**
 * The process logger: JSON lines on stdout, secrets redacted. Written off the event loop (pino's default), but in
 * chunks: a write per line costs a thread-pool hand-off and an event-loop wake-up each, which at a line per request
 * (shadow_diff, audit lines) weighed as much as the request itself. The last lines are written on exit.
 */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: "hasura-rolemapper" },
    redact: { paths: REDACTED, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const stream =
    destination ??
    pino.destination({
      dest: 1,
      sync: false,
      minLength: MIN_WRITE_BYTES,
      periodicFlush: PERIODIC_FLUSH_MS,
    });
  return pino(options, stream);
}

/**
 * A child of `logger` for lines of a fixed shape whose nested objects hold only fields named in code (never a
 * header, claim set or configuration object): only the top-level keys are redacted, without the wildcard paths'
 * walk over every nested object, which cost more than the rest of such a line.
 */
export function fixedShapeLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: REDACTED_TOP, censor: "[redacted]" } });
}
