// The configuration's public face: the rest of the sidecar imports from here, never from a section's file.
export { loadConfig, type Config } from "./load.js";
export { ConfigError } from "./env-reader.js";
export { DEFAULTS } from "./defaults.js";
export { configSummary } from "./summary.js";
export type { StoreKind, StoreConfig } from "./store.js";
export type { ShadowConfig } from "./shadow.js";
export type { CombinedRolesConfig } from "./combined-roles.js";
