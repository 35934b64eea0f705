import js from "@eslint/js";
import tseslint from "typescript-eslint";

const ioModules = ["node:*", "fs", "child_process", "net", "http", "https", "os", "path", "crypto"];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "coverage/", "data/", "logs/", "test-output/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // The core is pure: no I/O, no SDKs, no clock. The shell around it does the effects.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [
          { group: ioModules, message: "src/core is pure: do I/O in src/app or a driver." },
          { group: ["bullmq", "ioredis", "@slack/*", "discord.js", "pino", "fastify", "chokidar", "node-cron"], message: "src/core imports no SDKs." },
          { group: ["**/app/**", "**/drivers/**", "**/cli/**", "**/http/**", "**/main/**"], message: "Dependencies point inward: core imports only core." },
        ],
      }],
      "no-restricted-globals": ["error", { name: "process", message: "src/core does not read the environment." }],
      "no-restricted-properties": ["error", { object: "Date", property: "now", message: "Inject the clock." }],
    },
  },
  { files: ["bin/*.js", "eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  { files: ["bin/*.js", "eslint.config.js"], languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } } },
);
