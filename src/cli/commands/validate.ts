import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { formatDiagnostic, loadSopFolder, loadSops, type LoadResult } from "../../app/load-sops.ts";
import type { Diagnostic } from "../../core/sop/types.ts";
import { EXIT, type CliContext } from "../cli-context.ts";

/** A directory of SOPs, or one SOP folder (it holds SOP.toml or SOP.md). */
export async function loadForValidation(dir: string): Promise<LoadResult> {
  if (existsSync(join(dir, "SOP.toml")) || existsSync(join(dir, "SOP.md"))) {
    const one = await loadSopFolder(dir, basename(dir.replace(/\/+$/, "")));
    return { sops: one.sop ? [one.sop] : [], diagnostics: one.diagnostics };
  }
  return loadSops(dir);
}

function byPlace(a: Diagnostic, b: Diagnostic): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;
}

export async function validateCommand(ctx: CliContext, dir: string): Promise<number> {
  const { sops, diagnostics } = await loadForValidation(dir);
  const errors = diagnostics.filter((d) => d.severity === "error");
  const warnings = diagnostics.length - errors.length;
  if (ctx.json) {
    ctx.out(JSON.stringify({ valid: errors.length === 0, sops: sops.map((s) => s.definition.name), diagnostics }, null, 2));
    return errors.length ? EXIT.runFailed : EXIT.ok;
  }
  const { color } = ctx;
  for (const d of [...diagnostics].sort(byPlace)) {
    const line = formatDiagnostic(d);
    ctx.err(d.severity === "error" ? color.red(line) : color.yellow(line));
  }
  const summary = `${sops.length} valid SOP${sops.length === 1 ? "" : "s"} in ${dir}; ${errors.length} error${errors.length === 1 ? "" : "s"}, ${warnings} warning${warnings === 1 ? "" : "s"}`;
  if (errors.length) {
    ctx.err(color.red(summary));
    return EXIT.runFailed;
  }
  ctx.out(color.green(summary));
  return EXIT.ok;
}
