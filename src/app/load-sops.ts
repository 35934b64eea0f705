/**
 * Reads every SOP folder under a directory. One broken SOP never hides the good ones: the
 * result is the good definitions plus every diagnostic.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { missingFile, parseSop } from "../core/sop/parse-sop.ts";
import type { Diagnostic, LoadedSop } from "../core/sop/types.ts";
import { SOP_NAME } from "../core/names.ts";

/** Real SOP files are a few KiB; the cap keeps a hostile file from stalling a load. */
export const MAX_SOP_FILE_BYTES = 256 * 1024;

export interface LoadResult {
  sops: LoadedSop[];
  diagnostics: Diagnostic[];
}

function problem(file: string, code: string, message: string, severity: Diagnostic["severity"] = "error"): Diagnostic {
  return { severity, file, line: 1, column: 1, code, message };
}

type TextOrProblem = { text: string } | { problem: Diagnostic } | { missing: true };

async function readSopFile(file: string): Promise<TextOrProblem> {
  try {
    const info = await stat(file);
    if (!info.isFile()) return { problem: problem(file, "not-a-file", `${file} is not a regular file`) };
    if (info.size > MAX_SOP_FILE_BYTES) {
      const kib = Math.round(info.size / 1024);
      return { problem: problem(file, "file-too-large", `file is ${kib} KiB; an SOP file may be at most ${MAX_SOP_FILE_BYTES / 1024} KiB`) };
    }
    const bytes = await readFile(file);
    if (bytes.includes(0)) return { problem: problem(file, "binary-file", "file is binary (it contains NUL bytes), not UTF-8 text") };
    try {
      return { text: new TextDecoder("utf-8", { fatal: true }).decode(bytes).replace(/^\uFEFF/, "") };
    } catch {
      return { problem: problem(file, "not-utf8", "file is not valid UTF-8 text") };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { missing: true };
    return { problem: problem(file, "unreadable", `cannot read file: ${(err as Error).message}`) };
  }
}

/** One SOP folder; `dir` as the caller names it (diagnostics keep that form). */
export async function loadSopFolder(dir: string, folder: string): Promise<{ sop?: LoadedSop; diagnostics: Diagnostic[] }> {
  const tomlFile = join(dir, "SOP.toml");
  const mdFile = join(dir, "SOP.md");
  const [toml, md] = await Promise.all([readSopFile(tomlFile), readSopFile(mdFile)]);
  const diagnostics: Diagnostic[] = [];
  if (!SOP_NAME.test(folder)) {
    diagnostics.push(problem(dir, "bad-folder-name", `SOP folder name "${folder}" must match ${SOP_NAME.source} (lower-case letters, digits, - and _)`));
  }
  for (const got of [toml, md]) if ("problem" in got) diagnostics.push(got.problem);
  if ("missing" in toml) diagnostics.push(missingFile(tomlFile, "SOP.toml"));
  if (!("text" in toml) || "problem" in md || diagnostics.length > 0) {
    if ("missing" in md) diagnostics.push(missingFile(mdFile, "SOP.md"));
    return { diagnostics };
  }
  // Without SOP.md, parseSop still checks SOP.toml and reports the missing file with its problems.
  const markdown = "text" in md ? md.text : undefined;
  const parsed = parseSop({ folder, tomlFile, toml: toml.text, mdFile, markdown });
  diagnostics.push(...parsed.diagnostics);
  if (!parsed.definition || markdown === undefined) return { diagnostics };
  const hash = createHash("sha256").update(toml.text).update("\0").update(markdown).digest("hex");
  return { sop: { definition: parsed.definition, dir: resolve(dir), hash }, diagnostics };
}

export async function loadSops(sopsDir: string): Promise<LoadResult> {
  let entries;
  try {
    entries = await readdir(sopsDir, { withFileTypes: true });
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === "ENOENT" ? "SOP directory does not exist" : `cannot read SOP directory: ${(err as Error).message}`;
    return { sops: [], diagnostics: [problem(sopsDir, "no-sops-dir", reason)] };
  }
  const folders = entries.filter((e) => e.isDirectory() && !e.name.startsWith(".")).map((e) => e.name).sort();
  const results = await Promise.all(folders.map((f) => loadSopFolder(join(sopsDir, f), f)));
  const sops: LoadedSop[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const r of results) {
    diagnostics.push(...r.diagnostics);
    if (r.sop) sops.push(r.sop);
  }
  return { sops, diagnostics };
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity === "warning" ? "warning: " : ""}${d.message}`;
}
