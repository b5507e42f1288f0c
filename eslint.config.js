// @ts-check
import { readdirSync } from "node:fs";
import { join } from "node:path";
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/**
 * What each part of src/ may import of the others (docs/design.md, "Which way the imports go"): the core nothing;
 * identity, store and observability the core; the transports (http, grpc) those adapters; the wiring all of them.
 * `logger` is src/logger.ts. main.ts may import anything; nothing imports it.
 */
const CORE_AND_ADAPTERS = [
  "core",
  "identity",
  "store",
  "observability",
  "hasura-metadata",
  "shadow",
  "api",
  "http",
  "grpc",
];
const MAY_IMPORT = {
  core: [],
  identity: ["core"],
  store: ["core"],
  observability: ["core"],
  "hasura-metadata": ["core", "identity"],
  shadow: ["core", "observability"],
  api: ["core", "identity"],
  http: ["core", "identity", "observability", "shadow", "api"],
  grpc: ["core", "identity", "observability", "api"],
  logger: [],
  config: CORE_AND_ADAPTERS,
  wiring: [...CORE_AND_ADAPTERS, "config", "logger"],
  cli: [...CORE_AND_ADAPTERS, "config", "logger"],
};

// The top-level modules of src/ among the parts, and how an import path of one ends (the others are folders).
const MODULES = {
  logger: String.raw`logger\.js$`,
  main: String.raw`main\.js$`,
};

// The table of defaults (src/config/defaults.ts) is the one file of config that the parts beyond the core may
// import: their options' defaults come from it. It imports only the core.
const DEFAULTS_TABLE = "src/config/defaults.ts";
const CONFIG_BUT_DEFAULTS = String.raw`config/(?!defaults\.js$)`;

// The RoleMapping API's route table is typed by the messages the proto generates (src/grpc/gen/): src/api may
// import those, and nothing else of src/grpc, which builds the gRPC service from the table.
const GRPC_BUT_GENERATED = String.raw`grpc/(?!gen/)`;

// A folder of src/ without a line above would have no boundary at all.
const unmapped = readdirSync(join(import.meta.dirname, "src"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && !(entry.name in MAY_IMPORT))
  .map((entry) => entry.name);
if (unmapped.length > 0) {
  throw new Error(
    `eslint.config.js: add src/${unmapped.join(", src/")} to MAY_IMPORT (and to docs/design.md)`,
  );
}

/**
 * One part's boundary: the other parts (and test/) it may not import, statically or with `import()`, and the
 * `libraries` it may not use.
 */
function boundary(part, libraries = [], librariesMessage = "") {
  const allowed = new Set([part, ...MAY_IMPORT[part]]);
  const banned = [...Object.keys(MAY_IMPORT), "main"].filter((other) => !allowed.has(other));
  // A folder's files reach another part through `../`, a top-level module's through `./`.
  const up = part in MODULES ? String.raw`\./` : String.raw`\.\./`;
  const pathOf = (other) =>
    MODULES[other] ??
    (other === "config" && part !== "core"
      ? CONFIG_BUT_DEFAULTS
      : other === "grpc" && part === "api"
        ? GRPC_BUT_GENERATED
        : `${other}/`);
  const crossing = `^${up}(${banned.map(pathOf).join("|")})`;
  const message = `src/${part} may import only ${MAY_IMPORT[part].join(", ") || "within itself"}: docs/design.md, "Which way the imports go".`;
  const intoTest = String.raw`^(\.\./)+test/`;
  const testMessage = "src/ imports nothing from test/.";
  const patterns = [
    { regex: crossing, message },
    { regex: intoTest, message: testMessage },
    ...(libraries.length > 0 ? [{ group: libraries, message: librariesMessage }] : []),
  ];
  // The selector's regex is read up to the next `/`, so the slashes in it are written \x2f.
  const importCall = (regex) => `ImportExpression[source.value=/${regex.replaceAll("/", String.raw`\x2f`)}/]`;
  return {
    files: [part in MODULES ? `src/${part}*.ts` : `src/${part}/**`],
    rules: {
      "no-restricted-imports": ["error", { patterns }],
      "no-restricted-syntax": [
        "error",
        { selector: importCall(crossing), message },
        { selector: importCall(intoTest), message: testMessage },
      ],
    },
  };
}

const TRANSPORT_LIBRARIES = ["express", "@grpc/*"];
const NO_TRANSPORT = "only src/http and src/grpc use a transport library.";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "src/grpc/gen/", "coverage/", "data/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "error",
    },
  },
  {
    files: ["test/**", "src/cli/**"],
    rules: { "no-console": "off" },
  },
  {
    // A function fits on one screen; the generated code (src/grpc/gen) is not linted at all.
    files: ["src/**/*.ts"],
    rules: {
      "max-lines-per-function": ["error", { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  boundary(
    "core",
    [...TRANSPORT_LIBRARIES, "graphql-request", "pg", "@electric-sql/*", "pino", "jose"],
    "src/core knows no transport, store or identity library.",
  ),
  boundary("identity", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("store", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("observability", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("hasura-metadata", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("shadow", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("api", TRANSPORT_LIBRARIES, NO_TRANSPORT),
  boundary("http"),
  boundary("grpc"),
  boundary("logger"),
  boundary("config"),
  {
    files: [DEFAULTS_TABLE],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: String.raw`^(\./(?!freeze\.js$)|\.\./(?!core/))`,
              message: `${DEFAULTS_TABLE}, which every adapter imports, imports only the core.`,
            },
          ],
        },
      ],
    },
  },
  boundary("wiring"),
  boundary("cli"),
);
