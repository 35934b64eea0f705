import js from "@eslint/js";
import { defineConfig } from "eslint/config";
import { createNodeResolver, importX } from "eslint-plugin-import-x";
import tseslint from "typescript-eslint";

const layer = {
  main: { group: ["**/main/**"], message: "src/main is the processes' entry points (sop serve, sop worker); nothing imports it." },
  compose: { group: ["**/compose/**"], message: "Only the entry points (src/main, the CLI, src/index.ts) assemble a deployment." },
  drivers: { group: ["**/drivers/**"], message: "Drivers sit behind the ports; only src/compose picks one." },
  edges: { group: ["**/http/**", "**/cli/**", "**/chat/**", "**/adapters/**"], message: "src/app knows no edge: they call it." },
};

const ioModules = ["node:*", "fs", "child_process", "net", "http", "https", "os", "path", "crypto"];

export default defineConfig(
  { ignores: ["node_modules/", "dist/", "coverage/", "data/", "logs/", "test-output/"] },
  js.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.strictTypeChecked],
    rules: {
      // Numbers in messages are fine; undefined, null, objects and booleans in a template are bugs.
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      // A callback typed to return void may be a shorthand arrow (`() => resolve()`); a void value
      // used as a value anywhere else is still reported.
      "@typescript-eslint/no-confusing-void-expression": ["error", { ignoreVoidReturningFunctions: true }],
      // `_`-prefixed names are deliberately unused (rest-omission, positional parameters, caught errors).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests and benchmarks state the shape they expect with `!` and fail loudly if it is wrong;
    // in src the rule stays on and code narrows instead.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-non-null-assertion": "off" },
  },
  {
    // Vitest types its asymmetric matchers (expect.any, expect.objectContaining) as any.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-unsafe-assignment": "off" },
  },
  {
    // The in-memory drivers, the fakes and the benchmarks implement async interfaces (a store, a
    // job handler, a benchmark's run) with nothing to await; `async` is what makes their throws
    // (a closed queue, a read-only store) rejections, as those interfaces promise.
    files: ["src/drivers/local/**/*.ts", "test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/require-await": "off" },
  },
  {
    // A runtime import cycle makes module initialisation order-dependent and hides a layering
    // mistake. Type-only imports are erased, so the rule ignores them.
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    // Imports name their files with `.ts`, so the plugin's own resolver finds them; it only needs
    // to be told that .ts files are modules.
    settings: {
      "import-x/extensions": [".ts", ".js"],
      "import-x/resolver-next": [createNodeResolver()],
    },
    rules: { "import-x/no-cycle": "error" },
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
  // Plain JavaScript (the CLI shim, the browser script, this file, the vendored stub): the rules
  // that need no type information.
  { files: ["**/*.js"], extends: [tseslint.configs.recommended] },
  { files: ["bin/*.js", "eslint.config.js"], languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } } },
);
