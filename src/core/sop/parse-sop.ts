/**
 * SOP.toml + SOP.md → one definition: attaches `[gates]` to the steps they name and checks what
 * only the two files together can tell (name vs folder, gates naming no step). A folder without
 * SOP.md still has its SOP.toml checked, so every problem shows at once.
 */
import { conditionVariables } from "../conditions/evaluate-condition.ts";
import { parseManifest, type Manifest, type ManifestGate, type ManifestResult } from "./parse-manifest.ts";
import { parseProcedure, type FastTree, type ParsedProcedure } from "./parse-procedure.ts";
import type { Diagnostic, GateAttachment, SopDefinition, Step } from "./types.ts";

/**
 * The version of what parseSop makes of its input. Bump it with any change that makes the same
 * SOP.toml and SOP.md parse differently (a new field, a reworded message, a moved position):
 * parses cached in DATA_DIR under the old number are then never used again.
 */
export const PARSER_SCHEMA = 1;

export interface SopSource {
  /** The folder's name, which `[sop].name` must equal. */
  folder: string;
  tomlFile: string;
  toml: string;
  mdFile: string;
  /** Undefined when the folder has no SOP.md: the manifest is still checked and its problems reported. */
  markdown: string | undefined;
}

export interface ParseOptions {
  /** The fast tier for SOP.md (see parse-procedure.ts): the same result, sooner, once loaded. */
  fastTree?: FastTree | undefined;
}

export interface ParsedSop {
  definition?: SopDefinition;
  diagnostics: Diagnostic[];
}

/** The error for a folder without one of its two files, the same wherever a folder is read. */
export function missingFile(file: string, name: "SOP.toml" | "SOP.md"): Diagnostic {
  return { severity: "error", file, line: 1, column: 1, code: "missing-file", message: `missing ${name}: every SOP folder needs SOP.toml and SOP.md` };
}

export function parseSop(src: SopSource, { fastTree }: ParseOptions = {}): ParsedSop {
  const manifest = parseManifest(src.toml, src.tomlFile);
  return combine(src, manifest, readProcedureOf(src, fastTree));
}

/**
 * parseSop of each source, the same results in the same order, made phase by phase: every
 * SOP.toml, then every SOP.md, then the checks of the two together. Each parser's code then
 * stays hot (in the CPU's caches and the JIT's feedback) while it runs, where switching between
 * TOML, zod, markdown-it and the procedure reader for every SOP made a cold load of 1,000 SOPs
 * some 8% slower. Every parse is independent of the others, so the order changes nothing else.
 */
export function parseSops(sources: readonly SopSource[], { fastTree }: ParseOptions = {}): ParsedSop[] {
  const withManifests = sources.map((src) => ({ src, manifest: parseManifest(src.toml, src.tomlFile) }));
  const withProcedures = withManifests.map((read) => ({ ...read, procedure: readProcedureOf(read.src, fastTree) }));
  return withProcedures.map(({ src, manifest, procedure }) => combine(src, manifest, procedure));
}

/** SOP.md's steps, or undefined for a folder without SOP.md. */
function readProcedureOf(src: SopSource, fastTree: FastTree | undefined): ParsedProcedure | undefined {
  // Always the product's limits (PROCEDURE_LIMITS): a cached parse is keyed without them.
  return src.markdown === undefined ? undefined : parseProcedure(src.markdown, src.mdFile, { fastTree });
}

/** One definition from the two files' parses, with what only both together can tell. */
function combine(src: SopSource, { manifest, diagnostics }: ManifestResult, procedure: ParsedProcedure | undefined): ParsedSop {
  const at = (line: number, column: number, code: string, message: string, severity: Diagnostic["severity"] = "error"): void => {
    diagnostics.push({ severity, file: src.tomlFile, line, column, code, message });
  };
  const checkName = (named: Manifest): void => {
    if (named.name === src.folder) return;
    const { line, column } = named.namePosition;
    at(line, column, "name-mismatch", `[sop].name "${named.name}" does not match its folder "${src.folder}"; rename one of them`);
  };
  if (procedure === undefined) {
    // No steps for gates to name: what SOP.toml says of itself is all there is to check.
    if (manifest) checkName(manifest);
    return { diagnostics: [missingFile(src.mdFile, "SOP.md"), ...diagnostics] };
  }
  diagnostics.push(...procedure.diagnostics);
  if (!manifest) return { diagnostics };
  checkName(manifest);
  const attachGate = gateAttacher(procedure.steps);
  const gates = manifest.gates.flatMap((g) => {
    const attach = attachGate(g);
    if (typeof attach === "string") {
      at(g.line, g.column, "gate-names-no-step", attach);
      return [];
    }
    return [{ name: g.name, attach, ...g.gate }];
  });
  checkStepReferences(procedure.steps, src.mdFile, diagnostics);
  if (diagnostics.some((d) => d.severity === "error")) return { diagnostics };
  const { namePosition: _namePosition, gates: _gates, ...rest } = manifest;
  return { definition: { ...rest, gates, steps: procedure.steps }, diagnostics };
}

/**
 * `pre_<slug>` / `post_<slug>` / `pre_run` / `post_run` → where the gate goes, or why it can't.
 * Steps are indexed by slug once: thousands of gates over thousands of steps stay linear.
 */
function gateAttacher(steps: Step[]): (gate: ManifestGate) => GateAttachment | string {
  const bySlug = new Map<string, Step[]>();
  for (const step of steps) {
    const same = bySlug.get(step.slug);
    if (same) same.push(step);
    else bySlug.set(step.slug, [step]);
  }
  const known = bySlug.size === 0 ? "none" : someOf([...bySlug.keys()]);
  return (gate) => {
    if (gate.name === "pre_run" || gate.name === "post_run") return { when: gate.name };
    const match = /^(pre|post)_(.+)$/.exec(gate.name);
    if (!match) return `gate "${gate.name}" must be named pre_<step>, post_<step>, pre_run or post_run`;
    const [, when, slug] = match as unknown as [string, "pre" | "post", string];
    const found = bySlug.get(slug) ?? [];
    const [only] = found;
    if (only !== undefined && found.length === 1) return { when, step: only.number };
    const numbers = found.map((s) => s.number);
    if (found.length === 2) return `gate "${gate.name}" is ambiguous: steps ${numbers.join(" and ")} both have the slug "${slug}"; rename one of them`;
    if (found.length > 2) return `gate "${gate.name}" is ambiguous: steps ${someOf(numbers)} all have the slug "${slug}"; rename all but one of them`;
    return `gate "${gate.name}" names no step: no step's title makes the slug "${slug}" (slugs: ${known})`;
  };
}

/** The first few items and how many more: a message per gate must not list thousands of steps. */
function someOf(items: readonly (string | number)[], shown = 10): string {
  const more = items.length - shown;
  return more > 0 ? `${items.slice(0, shown).join(", ")} … and ${more} more` : items.join(", ");
}

function checkStepReferences(steps: Step[], file: string, diagnostics: Diagnostic[]): void {
  const slugs = new Set(steps.map((s) => s.slug));
  for (const step of steps) {
    if (!step.condition) continue;
    for (const name of conditionVariables(step.condition.ast)) {
      if (!name.startsWith("steps.")) continue;
      const slug = name.slice("steps.".length);
      if (slugs.has(slug)) continue;
      diagnostics.push({
        severity: "warning", file, line: step.line, column: 1, code: "unknown-step-reference",
        message: `step ${step.number} condition names ${name}, but no step has the slug "${slug}" (it will always be unset)`,
      });
    }
  }
}
