import { DEFAULTS } from "./defaults.js";
import type { EnvReader } from "./env-reader.js";

const MIB = 1024 * 1024;

/** The webhook Hasura asks (`/v1/authenticate`) and the bounds of what it parses. */
export interface WebhookConfig {
  readonly host: string;
  readonly port: number;
  readonly bodyLimitBytes: number;
  readonly maxQueryLength: number;
  readonly maxTokens: number;
  readonly maxBatch: number;
  readonly allowIntrospection: boolean;
  readonly operationCacheChars: number;
  /** Longest a websocket session (and its role) lasts before Hasura must ask again, in seconds. */
  readonly websocketSessionMaxS: number;
}

/** Reads WEBHOOK_*, the query bounds, ALLOW_INTROSPECTION, OPERATION_CACHE_CHARS and WEBSOCKET_SESSION_MAX_S. */
export function readWebhook(env: EnvReader): WebhookConfig {
  const d = DEFAULTS.webhook;
  return {
    host: env.string("WEBHOOK_HOST", d.host),
    port: env.port("WEBHOOK_PORT", d.port),
    bodyLimitBytes: env.int("WEBHOOK_BODY_LIMIT_BYTES", d.bodyLimitBytes, 1024, 64 * MIB),
    maxQueryLength: env.int("MAX_QUERY_LENGTH", d.maxQueryLength, 64, 16 * MIB),
    maxTokens: env.int("MAX_QUERY_TOKENS", d.maxTokens, 16, 1_000_000),
    maxBatch: env.int("MAX_BATCH_OPERATIONS", d.maxBatch, 1, 10_000),
    allowIntrospection: env.bool("ALLOW_INTROSPECTION", d.allowIntrospection),
    operationCacheChars: env.int("OPERATION_CACHE_CHARS", d.operationCacheChars, 0, 1024 * MIB),
    websocketSessionMaxS: env.int("WEBSOCKET_SESSION_MAX_S", d.websocketSessionMaxS, 1, 86_400),
  };
}
