import js from "@eslint/js";
import tseslint from "typescript-eslint";

const layer = {
  main: { group: ["**/main/**"], message: "src/main is the processes' entry points (sop serve, sop worker); nothing imports it." },
  compose: { group: ["**/compose/**"], message: "Only the entry points (src/main, the CLI, src/index.ts) assemble a deployment." },
  drivers: { group: ["**/drivers/**"], message: "Drivers sit behind the ports; only src/compose picks one." },
  edges: { group: ["**/http/**", "**/cli/**", "**/chat/**", "**/adapters/**"], message: "src/app knows no edge: they call it." },
};

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
  // Layers (README "Architecture"): dependencies point inward, and SopRunner is the one door.
  // For a file in several blocks the last one's list applies, so each list is whole.
  {
    files: ["src/**/*.ts", "adapters/**/*.ts"],
    ignores: ["src/main/**", "src/core/**"],
    rules: { "no-restricted-imports": ["error", { patterns: [layer.main] }] },
  },
  {
    files: ["src/app/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [layer.main, layer.compose, layer.drivers, layer.edges] }] },
  },
  {
    // The edges reach the engine through the SopRunner they are given, never a driver.
    files: ["src/http/**/*.ts", "src/chat/**/*.ts", "adapters/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [layer.main, layer.compose, layer.drivers] }] },
  },
  {
    // The CLI opens a deployment in-process (src/compose), and reads nothing of a driver itself.
    files: ["src/cli/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [layer.main, layer.drivers] }] },
  },
  {
    files: ["src/ports/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [layer.main, layer.compose, layer.drivers, layer.edges, { group: ["**/app/**"], message: "Ports are what src/app needs; they import only src/core." }] }] },
  },
  { files: ["bin/*.js", "eslint.config.js"], ...tseslint.configs.disableTypeChecked },
  { files: ["bin/*.js", "eslint.config.js"], languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } } },
);
