/**
 * Parsed SOPs kept on disk, `<DATA_DIR>/cache/sops/<key>.json`, so that a start or a reload
 * parses only the SOPs that changed. The key is the SHA-256 of everything parseSop reads (the
 * folder's name, the two file paths as diagnostics name them, SOP.toml, SOP.md) and of the
 * parser's version, so an entry holds exactly what a fresh parse would give: the definition and
 * every located error and warning.
 *
 * The cache is only ever a shortcut. An entry that is missing, corrupt or unreadable is a miss
 * (the SOP is parsed, and the entry written again); a write that fails is skipped; the whole
 * folder may be deleted at any time. Writes go to a temp file renamed into place, so a reader
 * never sees half an entry. Entries no longer used by a full load are pruned.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { PARSER_SCHEMA, type ParsedSop, type SopSource } from "../core/sop/parse-sop.ts";
import type { ParseCache } from "./load-sops.ts";

interface Entry {
  key: string;
  version: string;
  parsed: ParsedSop;
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * The package's version, from the nearest package.json named sop-runner above this file, and a
 * hash of the package-lock.json beside it when there is one: the libraries the parser leans on
 * (zod, smol-toml, micromark, cron-parser) word some of its messages, and `npm update` changes
 * them without changing our version.
 */
function packageVersion(): { version: string; lock: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "sop-runner" && typeof pkg.version === "string") return { version: pkg.version, lock: lockHash(dir) };
    } catch {
      // Not here: look one folder up.
    }
    const up = dirname(dir);
    if (up === dir) return { version: "unknown", lock: "" };
    dir = up;
  }
}

function lockHash(dir: string): string {
  try {
    return `/lock-${createHash("sha256").update(readFileSync(join(dir, "package-lock.json"))).digest("hex").slice(0, 16)}`;
  } catch {
    return "";
  }
}

/**
 * What a cached parse depends on besides its input: our parser (package version, and the schema
 * number bumped whenever parseSop's output changes), the libraries it uses, and Node, whose ICU
 * data decides which time zones exist.
 */
let parserVersion: string | undefined;
/** Worked out on first use, not at import: a process with no cache never reads package-lock.json. */
function currentParserVersion(): string {
  if (parserVersion === undefined) {
    const pkg = packageVersion();
    parserVersion = `${pkg.version}+${PARSER_SCHEMA}/node-${process.versions.node}${pkg.lock}`;
  }
  return parserVersion;
}

/** The key of a parse: everything parseSop reads, and the parser's version. */
export function parseKey(source: SopSource, version: string = currentParserVersion()): string {
  // Paths and texts never hold NUL (a file with one is refused before parsing), so NUL separates.
  const hash = createHash("sha256").update(version).update("\0").update(source.folder).update("\0")
    .update(source.tomlFile).update("\0").update(source.mdFile).update("\0").update(source.toml).update("\0");
  if (source.markdown === undefined) hash.update("\u0001no SOP.md");
  else hash.update("\u0002").update(source.markdown);
  return hash.digest("hex");
}

/** Only what JSON gives back unchanged may be cached: no undefined, no NaN or ±Infinity, no -0. */
function plainJson(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      if (value === null) return true;
      if (Array.isArray(value)) return value.every(plainJson);
      if (Object.getPrototypeOf(value) !== Object.prototype) return false;
      return Object.values(value).every(plainJson);
    default:
      return false;
  }
}

export class SopCache implements ParseCache {
  readonly dir: string;
  readonly version: string;
  private readonly readOnly: boolean;
  private made = false;

  /** `dataDir/cache/sops`; read-only: entries are used but never written or pruned. */
  constructor(dataDir: string, options: { readOnly?: boolean; version?: string } = {}) {
    this.dir = join(dataDir, "cache", "sops");
    this.readOnly = options.readOnly === true;
    this.version = options.version ?? currentParserVersion();
  }

  keyOf(source: SopSource): string {
    return parseKey(source, this.version);
  }

  get(key: string): ParsedSop | undefined {
    let entry: Partial<Entry> | null;
    try {
      entry = JSON.parse(readFileSync(this.file(key), "utf8")) as Partial<Entry> | null;
    } catch {
      return undefined;
    }
    // A torn, truncated or foreign file is a miss, never an error.
    if (entry?.key !== key || entry.version !== this.version || !Array.isArray(entry.parsed?.diagnostics)) return undefined;
    return entry.parsed;
  }

  set(key: string, parsed: ParsedSop): void {
    if (this.readOnly || !KEY.test(key) || !plainJson(parsed)) return;
    const target = this.file(key);
    const temp = join(this.dir, `.${key}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      if (!this.made) {
        mkdirSync(this.dir, { recursive: true });
        this.made = true;
      }
      writeFileSync(temp, JSON.stringify({ key, version: this.version, parsed } satisfies Entry));
      renameSync(temp, target);
    } catch {
      // A full disk or a read-only DATA_DIR costs the next start a parse, nothing more.
      rmSync(temp, { force: true });
    }
  }

  /** Removes every entry (and stray temp file) whose key is not in `keep`. */
  prune(keep: ReadonlySet<string>): number {
    if (this.readOnly) return 0;
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return 0;
    }
    let removed = 0;
    for (const name of names) {
      if (name.endsWith(".json") && keep.has(name.slice(0, -".json".length))) continue;
      // Another process's temp file may be mid-write: its rename then fails, and it skips the entry.
      try {
        rmSync(join(this.dir, name), { force: true, recursive: true });
        removed++;
      } catch {
        // Gone already, or not ours to remove: the next prune tries again.
      }
    }
    return removed;
  }

  /** Removes one entry (the previous parse of an SOP that changed). */
  forget(key: string): void {
    if (this.readOnly || !KEY.test(key)) return;
    try {
      rmSync(this.file(key), { force: true });
    } catch {
      // Left for the next full load's prune.
    }
  }

  private file(key: string): string {
    return join(this.dir, `${key}.json`);
  }
}
