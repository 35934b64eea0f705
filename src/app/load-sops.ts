/**
 * Reads every SOP folder under a directory. One broken SOP never hides the good ones: the
 * result is the good definitions plus every diagnostic. A parse comes from the cache when one is
 * given and has it; when many SOPs need parsing, worker threads share the work (parse-pool.ts).
 * Whichever way a parse is made, the result is the same, in the same order.
 */
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import type { FastTree } from "../core/sop/parse-procedure.ts";
import { missingFile, parseSops, type ParsedSop, type SopSource } from "../core/sop/parse-sop.ts";
import type { Diagnostic, LoadedSop } from "../core/sop/types.ts";
import { SOP_NAME } from "../core/names.ts";
import { parseInPool, poolThreads, type PoolOptions } from "./parse-pool.ts";
import { fileProblem, readSopFile } from "./read-sop-file.ts";

export { MAX_SOP_FILE_BYTES } from "./read-sop-file.ts";

/** Folders read between two turns of the event loop, so a server keeps answering during a load. */
const READ_BATCH = 100;
/** More SOPs than this to parse, and worker threads help (when a core is idle): below it, starting them costs more. */
const POOL_THRESHOLD = 50;
/**
 * This many SOPs to parse, or more, and the fast tier (markdown-it) is loaded for them. Loading it
 * costs a process memory for good (some 10 MiB where nothing else was parsed) and about what
 * micromark spends, cold, on a few SOPs (measured: `sop validate` of 2 SOPs 10 ms slower with
 * micromark alone, of 5 some 25 ms, of 10 some 80 ms). Below it (a server with a handful of SOPs,
 * the hot reload of one, a start with the parse cache warm, which parses none) micromark parses
 * alone, a few milliseconds slower per SOP, with the same result.
 */
const FAST_TIER_THRESHOLD = 5;

/** The fast tier, imported on first use (parse-worker.ts, only ever started for many SOPs, imports it at once). */
export async function loadFastTree(): Promise<FastTree> {
  return (await import("../core/sop/fast-markdown-tree.ts")).fastMarkdownTree;
}

export interface LoadResult {
  sops: LoadedSop[];
  diagnostics: Diagnostic[];
}

/** Parses already made, by a key over everything the parse reads (sop-cache.ts keeps them on disk). */
export interface ParseCache {
  keyOf(source: SopSource): string;
  get(key: string): ParsedSop | undefined;
  set(key: string, parsed: ParsedSop): void;
}

export interface LoadOptions {
  /** Parses already made (see sop-cache.ts); fresh parses are added to it. */
  cache?: ParseCache;
  /** Parse on worker threads when more than this many SOPs need parsing; Infinity: never. */
  poolThreshold?: number;
  pool?: PoolOptions;
  /** Load the fast tier when at least this many SOPs need parsing; Infinity: never. */
  fastTierThreshold?: number;
  /** How the fast tier is loaded (default loadFastTree); tests count the loads. */
  loadFastTree?: () => Promise<FastTree>;
}

/** One folder's outcome. `parsed` and, with a cache, `key` are there when SOP.toml could be parsed. */
export interface FolderLoad {
  folder: string;
  sop?: LoadedSop;
  diagnostics: Diagnostic[];
  parsed?: ParsedSop;
  key?: string;
  /** The parse came from the cache rather than the parser. */
  cached?: boolean;
}

/** A folder's files as read: what parseSop needs, or, without `source`, why it can't be parsed. */
interface FolderRead {
  folder: string;
  dir: string;
  diagnostics: Diagnostic[];
  source?: SopSource;
}

function readSopFolder(dir: string, folder: string): FolderRead {
  const tomlFile = join(dir, "SOP.toml");
  const mdFile = join(dir, "SOP.md");
  const toml = readSopFile(tomlFile);
  const md = readSopFile(mdFile);
  const diagnostics: Diagnostic[] = [];
  if (!SOP_NAME.test(folder)) {
    diagnostics.push(fileProblem(dir, "bad-folder-name", `SOP folder name "${folder}" must match ${SOP_NAME.source} (lower-case letters, digits, - and _)`));
  }
  for (const got of [toml, md]) if ("problem" in got) diagnostics.push(got.problem);
  if ("missing" in toml) diagnostics.push(missingFile(tomlFile, "SOP.toml"));
  if (!("text" in toml) || "problem" in md || diagnostics.length > 0) {
    if ("missing" in md) diagnostics.push(missingFile(mdFile, "SOP.md"));
    return { folder, dir, diagnostics };
  }
  // Without SOP.md, parseSop still checks SOP.toml and reports the missing file with its problems.
  const markdown = "text" in md ? md.text : undefined;
  return { folder, dir, diagnostics, source: { folder, tomlFile, toml: toml.text, mdFile, markdown } };
}

function settle(read: FolderRead, parsed: ParsedSop | undefined, key: string | undefined, cached: boolean): FolderLoad {
  const { folder, source } = read;
  if (source === undefined || parsed === undefined) return { folder, diagnostics: read.diagnostics };
  const done: FolderLoad = { folder, diagnostics: [...read.diagnostics, ...parsed.diagnostics], parsed, cached };
  if (key !== undefined) done.key = key;
  if (parsed.definition && source.markdown !== undefined) {
    const hash = createHash("sha256").update(source.toml).update("\0").update(source.markdown).digest("hex");
    done.sop = { definition: parsed.definition, dir: resolve(read.dir), hash };
  }
  return done;
}

async function parseReads(reads: readonly FolderRead[], options: LoadOptions): Promise<FolderLoad[]> {
  const { cache } = options;
  const keys = reads.map((r) => (r.source && cache ? cache.keyOf(r.source) : undefined));
  const parses = keys.map((key) => (key !== undefined ? cache?.get(key) : undefined));
  const cached = parses.map((p) => p !== undefined);
  const todo = reads.flatMap((r, i) => (r.source && parses[i] === undefined ? [{ index: i, folder: r.folder, source: r.source }] : []));
  const sources = todo.map((t) => t.source);
  // The fast tier only saves time: if it cannot be loaded, micromark alone gives the same parses.
  const fastTree = sources.length >= (options.fastTierThreshold ?? FAST_TIER_THRESHOLD) ? await (options.loadFastTree ?? loadFastTree)().catch(() => undefined) : undefined;
  const threads = sources.length > (options.poolThreshold ?? POOL_THRESHOLD) ? (options.pool?.threads ?? poolThreads(sources.length)) : 0;
  const fresh = threads > 0 ? await parseInPool(sources, { ...options.pool, threads, fastTree }) : parseSops(sources, { fastTree });
  todo.forEach(({ index, folder }, k) => {
    const parsed = fresh[k];
    if (parsed === undefined) throw new Error(`no parse came back for SOP folder ${folder}: ${fresh.length} results for ${todo.length} sources`);
    parses[index] = parsed;
    const key = keys[index];
    if (key !== undefined) cache?.set(key, parsed);
  });
  return reads.map((read, i) => settle(read, parses[i], keys[i], cached[i] === true));
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The SOP folders of `sopsDir` in load order, or why it can't be listed. */
export async function listSopFolders(sopsDir: string): Promise<string[] | Diagnostic> {
  try {
    const entries = await readdir(sopsDir, { withFileTypes: true });
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "SOP directory does not exist" : `cannot read SOP directory: ${(err as Error).message}`;
    return fileProblem(sopsDir, "no-sops-dir", reason);
  }
}

/** Reads and parses the named folders of `sopsDir`; one result per folder, in the order given. */
export async function loadSopFolders(sopsDir: string, folders: readonly string[], options: LoadOptions = {}): Promise<FolderLoad[]> {
  const reads: FolderRead[] = [];
  for (const [i, folder] of folders.entries()) {
    if (i > 0 && i % READ_BATCH === 0) await nextTurn();
    reads.push(readSopFolder(join(sopsDir, folder), folder));
  }
  return parseReads(reads, options);
}

/** One SOP folder; `dir` as the caller names it (diagnostics keep that form). */
export async function loadSopFolder(dir: string, folder: string, options: LoadOptions = {}): Promise<{ sop?: LoadedSop; diagnostics: Diagnostic[] }> {
  const [done] = await parseReads([readSopFolder(dir, folder)], options);
  if (done === undefined) throw new Error(`loading SOP folder ${dir} gave no result`);
  return done.sop ? { sop: done.sop, diagnostics: done.diagnostics } : { diagnostics: done.diagnostics };
}

export async function loadSops(sopsDir: string, options: LoadOptions = {}): Promise<LoadResult> {
  const folders = await listSopFolders(sopsDir);
  if (!Array.isArray(folders)) return { sops: [], diagnostics: [folders] };
  const loads = await loadSopFolders(sopsDir, folders, options);
  return { sops: loads.flatMap((l) => (l.sop ? [l.sop] : [])), diagnostics: loads.flatMap((l) => l.diagnostics) };
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity === "warning" ? "warning: " : ""}${d.message}`;
}
