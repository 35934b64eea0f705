/**
 * `npm run build` (also run by `npm ci`, as `prepare`): dist/ is what `bin/sop.js`, `npm start`,
 * the Procfile and the library export run. It compiles src/ and adapters/ with
 * tsconfig.build.json, copies beside the compiled modules every other file of those folders (web
 * assets, Lua scripts: what the code reads relative to its own module), bundles the SOP parser
 * into one module and its fast tier into another (bundleParser), and writes last dist/BUILD_HASH,
 * a hash of the sources it was built from.
 *
 * `ensureFreshBuild` compares that hash with the sources as they are now and builds only when
 * they differ; the tests (vitest's globalSetup) and benchmarks call it, so what they spawn through
 * `bin/sop.js` is never stale output.
 */
import { buildSync } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
/** Written last: bin/sop.js refuses to start without it. */
export const HASH_FILE = join(DIST, "BUILD_HASH");
/** The folders tsconfig.build.json compiles; their other files are copied as they are. */
const SOURCE_DIRS = ["src", "adapters"];
/** What else decides the output. */
const BUILD_INPUTS = ["tsconfig.json", "tsconfig.build.json", "package.json", "package-lock.json", "scripts/build.ts"];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

function sourceFiles(): string[] {
  return SOURCE_DIRS.flatMap((d) => filesUnder(join(ROOT, d))).sort();
}

/** Hash of every source file's path and content, and of the build's own settings. */
export function sourceHash(): string {
  const hash = createHash("sha256");
  for (const file of [...sourceFiles(), ...BUILD_INPUTS]) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(join(ROOT, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

/**
 * The compiled parse-sop.js, and everything it imports (the rest of src/core, zod, smol-toml,
 * micromark, cron-parser …), as one module in its place. Loading the parser file by file was
 * most of the start of `sop validate` and of each parse worker: some 250 modules, 140 ms to
 * resolve, read and link before the first SOP is read; one module takes half that. The parser
 * is pure (it imports no I/O), so nothing in it depends on where its files were; importers keep
 * importing parse-sop.js and see the same exports. The other core modules the app imports
 * directly (describe-trigger, types, names, conditions …) are pure helpers over plain data, so
 * their separate copies behave the same.
 *
 * The fast tier (fast-markdown-tree.js with markdown-it) is a bundle of its own: parse-sop.js
 * never imports it, the app imports it only for big loads (load-sops.ts), and a process that
 * never does (a server with a few SOPs) never pays its memory. Its copies of the small helpers
 * it shares with the parser (source points, line starts) are pure functions too.
 */
const BUNDLES = [["src", "core", "sop", "parse-sop.js"], ["src", "core", "sop", "fast-markdown-tree.js"]];

function bundleParser(): void {
  for (const path of BUNDLES) {
    const file = join(DIST, ...path);
    // buildSync throws with esbuild's messages when it fails.
    buildSync({
      entryPoints: [file],
      outfile: file,
      allowOverwrite: true,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20.19",
      logLevel: "silent",
    });
  }
}

/** A clean build of dist/; throws when tsc reports errors (and then leaves no dist/ behind). */
export function build(): void {
  const hash = sourceHash();
  rmSync(DIST, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: ROOT, stdio: "inherit" });
  if (result.status !== 0) {
    rmSync(DIST, { recursive: true, force: true });
    throw new Error(`tsc -p tsconfig.build.json failed (${result.error?.message ?? `exit ${result.status ?? result.signal}`}); dist/ not built`);
  }
  try {
    bundleParser();
  } catch (err) {
    rmSync(DIST, { recursive: true, force: true });
    throw err;
  }
  for (const file of sourceFiles().filter((f) => !f.endsWith(".ts"))) {
    mkdirSync(dirname(join(DIST, file)), { recursive: true });
    copyFileSync(join(ROOT, file), join(DIST, file));
  }
  writeFileSync(HASH_FILE, `${hash}\n`);
}

/** Builds dist/ unless it was built from the sources as they are now; says whether it built. */
export function ensureFreshBuild(): boolean {
  const built = existsSync(HASH_FILE) ? readFileSync(HASH_FILE, "utf8").trim() : undefined;
  if (built === sourceHash()) return false;
  console.log(built === undefined ? "building dist/ (npm run build)" : "rebuilding dist/: the sources changed since it was built (npm run build)");
  build();
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    build();
  } catch (err) {
    console.error(`build: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
