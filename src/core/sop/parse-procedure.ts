/**
 * SOP.md → steps (SPEC §2.2), in two tiers that give the same result for every input:
 *
 * 1. the fast tier, when the caller passes it (`fastTree`): where no Markdown limit could trip
 *    (fast-tier-budget.ts), markdown-it's tokens made into remark's tree (fast-markdown-tree.ts),
 *    read as usual. It is kept only when the procedure it reads has no diagnostic at all: an SOP
 *    with problems is parsed again below, so every error and warning is located exactly as remark
 *    locates it;
 * 2. remark's tree from micromark, metered by markdown-budget.ts, as the parser always was: for
 *    everything the fast tier declines, for every SOP with a diagnostic, and for every SOP when
 *    the caller passes no fast tier.
 *
 * micromark takes a few milliseconds per ordinary SOP.md, markdown-it a tenth of that; valid
 * files, nearly all of them, finish on the fast tier. But loading markdown-it costs a process
 * some 10 MiB and tens of milliseconds, more than micromark spends on a handful of SOPs: so the
 * fast tier is a value the caller loads (fast-markdown-tree.ts) and passes in, and this module
 * never imports it (the app loads it only for big loads, load-sops.ts).
 * test/core/parse-procedure-tiers.test.ts proves the two tiers equal.
 */
import type { Root } from "mdast";
import { fromMarkdown, type Options } from "mdast-util-from-markdown";
import { fastTierAccepts } from "./fast-tier-budget.ts";
import { markdownBudget } from "./markdown-budget.ts";
import { MarkdownLimitError, type MarkdownLimits } from "./markdown-limits.ts";
import { createContext, report, type ProcedureContext } from "./procedure-context.ts";
import { PROCEDURE_LIMITS, textProblem, type ProcedureLimits } from "./procedure-limits.ts";
import { readProcedure, type ParsedProcedure } from "./read-procedure.ts";

export type { ParsedProcedure } from "./read-procedure.ts";

/**
 * remark's parser without unified around it: remark-parse only hands the text and its micromark
 * extensions to mdast-util-from-markdown, so the tree is the same, and a start-up (`sop validate`)
 * skips loading unified, vfile and their helpers (a score of modules). The metering extension is
 * built once per set of limits: the product's, and whatever a test passes.
 */
const parseOptions = new WeakMap<MarkdownLimits, Options>();

/**
 * The fast tier's tree builder (fastMarkdownTree of fast-markdown-tree.ts): remark's tree for a
 * text within the fast tier's budget, or undefined where it declines.
 */
export type FastTree = (ctx: ProcedureContext) => Root | undefined;

export interface ProcedureOptions {
  /** Default: the product's limits (PROCEDURE_LIMITS), which parseSop always uses. */
  limits?: ProcedureLimits;
  /** The fast tier, tried first; without it, micromark parses every text. Either way the result is the same. */
  fastTree?: FastTree | undefined;
}

/**
 * Reads the procedure of an SOP. Never throws: whatever the input, problems come back as
 * diagnostics located in `file` (named as the caller names it), and the steps it could read.
 */
export function parseProcedure(markdown: string, file: string, { limits = PROCEDURE_LIMITS, fastTree }: ProcedureOptions = {}): ParsedProcedure {
  const ctx = createContext(markdown, file);
  const tooBig = textProblem(markdown, limits.text);
  if (tooBig) {
    report(ctx, "error", tooBig.code, { line: tooBig.line, column: 1 }, tooBig.message);
    return { steps: [], diagnostics: ctx.diagnostics };
  }
  if (fastTree) {
    const fast = fastProcedure(ctx, limits.markdown, fastTree);
    if (fast) return fast;
    // The same text and lines serve micromark; what the fast tier found is found again there.
    ctx.diagnostics = [];
  }
  const root = parseMarkdown(ctx, markdown, limits.markdown);
  if (!root) return { steps: [], diagnostics: ctx.diagnostics };
  return readProcedure(ctx, root);
}

/**
 * The procedure as the fast tier reads it, or undefined where parseProcedure goes on to
 * micromark: the text is past a limit or near one, the fast tier declines its Markdown, or the
 * procedure has a diagnostic. Exported so that a test can tell the fast tier is really taken.
 */
export function parseProcedureFast(markdown: string, file: string, fastTree: FastTree, limits: ProcedureLimits = PROCEDURE_LIMITS): ParsedProcedure | undefined {
  if (textProblem(markdown, limits.text)) return undefined;
  return fastProcedure(createContext(markdown, file), limits.markdown, fastTree);
}

/** The fast tier over a text within the text limits. */
function fastProcedure(ctx: ProcedureContext, limits: MarkdownLimits, fastTree: FastTree): ParsedProcedure | undefined {
  if (!fastTierAccepts(ctx.text, limits)) return undefined;
  const root = fastTree(ctx);
  if (!root) return undefined;
  const procedure = readProcedure(ctx, root);
  return procedure.diagnostics.length === 0 ? procedure : undefined;
}

/** remark's tree, or nothing (and an error) when the text is past one of the Markdown limits. */
function parseMarkdown(ctx: ProcedureContext, markdown: string, limits: MarkdownLimits): Root | undefined {
  let options = parseOptions.get(limits);
  if (!options) parseOptions.set(limits, (options = { extensions: [markdownBudget(limits)] }));
  try {
    return fromMarkdown(markdown, options);
  } catch (error) {
    if (!(error instanceof MarkdownLimitError)) throw error;
    report(ctx, "error", error.code, { line: error.line, column: error.column }, error.message);
    return undefined;
  }
}
