import { pino, type Logger } from "pino";

/** Paths whose values never reach a log line, wherever they appear. */
const REDACTED = [
  "token",
  "*.token",
  "authorization",
  "*.authorization",
  "headers.authorization",
  "*.headers.authorization",
  "secret",
  "*.secret",
  "*.clientSecret",
  "*.adminSecret",
  "*.tokens",
  "password",
  "*.password",
];

/** The process logger: JSON lines on stdout, secrets redacted. */
export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { service: "hasura-rolemapper" },
    redact: { paths: REDACTED, censor: "[redacted]" },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
