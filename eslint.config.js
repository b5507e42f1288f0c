// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

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
    files: ["src/core/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["express", "@grpc/*", "graphql-request", "pg", "@electric-sql/*", "pino", "jose"],
              message: "src/core knows no transport, store or identity library.",
            },
            {
              group: ["../http/*", "../grpc/*", "../store/*-store*", "../identity/*"],
              message: "core imports no adapter.",
            },
          ],
        },
      ],
    },
  },
);
