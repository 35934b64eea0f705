/**
 * An mdast tree of SOP.md → its steps (SPEC §2.2). The structure comes from the tree, never from
 * regexes over the Markdown; the source text is sliced only to read what mdast does not keep (a
 * written list number, an attribute group's exact columns, the description as written). The
 * tree may come from either tier of parse-procedure.ts: this reads only what both build alike.
 */
import type { ListItem, Root } from "mdast";
import { report, type ProcedureContext } from "./procedure-context.ts";
import { findStepItems } from "./procedure-section.ts";
import { startOf, startOffset } from "./procedure-tree.ts";
import { shorten } from "./step-attributes.ts";
import { readStepBody } from "./step-body.ts";
import { readAttributeBullets } from "./step-bullets.ts";
import { readStepHeader } from "./step-header.ts";
import { reportUnusedBullets, StepSettings, type UnusedBullet } from "./step-settings.ts";
import { slugify, type Diagnostic, type Step } from "./types.ts";

/** Past this many, one summary stands for the rest: nobody reads 200,000 lines about one file. */
const MAX_DIAGNOSTICS = 100;

export interface ParsedProcedure {
  steps: Step[];
  /** Sorted by line and column. */
  diagnostics: Diagnostic[];
}

/** The steps of the procedure in `root`, with whatever diagnostics `ctx` already holds and these. */
export function readProcedure(ctx: ProcedureContext, root: Root): ParsedProcedure {
  const items = findStepItems(ctx, root);
  checkNumbering(ctx, items);
  const unused: UnusedBullet[] = [];
  const steps = items.map((item, index) => parseStep(ctx, item, index + 1, unused));
  reportUnusedBullets(ctx, unused);
  return { steps, diagnostics: capped(ctx.diagnostics.sort((a, b) => a.line - b.line || a.column - b.column)) };
}

function capped(diagnostics: Diagnostic[]): Diagnostic[] {
  const hidden = diagnostics.slice(MAX_DIAGNOSTICS);
  const first = hidden[0];
  if (first === undefined) return diagnostics;
  return [
    ...diagnostics.slice(0, MAX_DIAGNOSTICS),
    {
      ...first,
      severity: hidden.some((d) => d.severity === "error") ? "error" : "warning",
      code: "too-many-problems",
      message: `${hidden.length} more problems from here on are not shown; fix the ones above first`,
    },
  ];
}

/** Numbers as written are for people (remark keeps only a list's start): gaps and repeats warn. */
function checkNumbering(ctx: ProcedureContext, items: ListItem[]): void {
  let previous: number | undefined;
  for (const item of items) {
    const start = startOffset(item);
    const written = /^\d{1,9}/.exec(ctx.text.slice(start, start + 10))?.[0];
    if (written === undefined) continue;
    const n = Number(written);
    if (previous === undefined && n !== 1) {
      report(ctx, "warning", "step-number", startOf(item), `the first step is numbered ${n}; number the steps from 1`);
    } else if (previous !== undefined && n !== previous + 1) {
      report(ctx, "warning", "step-number", startOf(item), `step numbered ${n} follows ${previous}`);
    }
    previous = n;
  }
}

function parseStep(ctx: ProcedureContext, item: ListItem, number: number, unused: UnusedBullet[]): Step {
  const header = readStepHeader(ctx, item);
  if (header.title === "") {
    report(ctx, "error", "no-title", startOf(item), `step ${number} has no title; start it with one, e.g. "${number}. **Build release**"`);
  }
  const bullets = readAttributeBullets(ctx, item);
  const settings = new StepSettings(ctx, number);
  for (const attribute of header.attributes) settings.fromGroup(attribute);
  for (const attribute of bullets.attributes) settings.fromBullet(attribute);
  const body = readStepBody(ctx, item, header, bullets.items);
  unused.push(...settings.unused);
  const { options } = settings;
  const manualAt = settings.setAt("manual");
  if (options.manual && body.commands.length > 0 && manualAt !== undefined) {
    report(ctx, "warning", "manual-with-commands", manualAt.offset,
      `step ${number} is manual, so its commands will not run; remove "${shorten(manualAt.written)}" or the code blocks`);
  }
  const step: Step = {
    number,
    title: header.title,
    slug: slugify(header.title),
    description: body.description,
    commands: body.commands,
    shown: body.shown,
    requiresApproval: options.requiresApproval,
    manual: options.manual,
    retries: options.retries,
    continueOnError: options.continueOnError,
    always: options.always,
    metadata: Object.fromEntries(settings.metadata),
    line: startOf(item).line,
  };
  if (options.condition) step.condition = options.condition;
  if (options.timeoutSecs !== undefined) step.timeoutSecs = options.timeoutSecs;
  return step;
}
