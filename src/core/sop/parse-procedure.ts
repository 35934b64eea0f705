/**
 * SOP.md → steps (SPEC §2.2). The structure comes from the mdast tree; source offsets are used
 * only to read a title line's attribute group with exact columns. Fenced code is never structure.
 */
import type { Code, List, ListItem, Nodes, Paragraph, Root, RootContent } from "mdast";
import remarkParse from "remark-parse";
import { unified } from "unified";
import { parseAttributeGroup } from "./step-attributes.ts";
import { applyAttribute, isKnownAttribute, suggestKey, type StepOptions } from "./step-options.ts";
import { slugify, type Diagnostic, type Step } from "./types.ts";

const RUNNABLE = new Set(["", "bash", "sh", "shell"]);
const BULLET = /^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*)$/;
const processor = unified().use(remarkParse);

interface Ctx {
  md: string;
  file: string;
  diagnostics: Diagnostic[];
}

function report(ctx: Ctx, severity: Diagnostic["severity"], line: number, column: number, code: string, message: string): void {
  ctx.diagnostics.push({ severity, file: ctx.file, line, column, code, message });
}

/** Plain text of inline content, iteratively (deep trees must not overflow the stack). */
function plainText(node: Nodes): string {
  let out = "";
  const stack: Nodes[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    if ("value" in n && typeof n.value === "string") out += n.value;
    if ("children" in n) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as Nodes);
  }
  return out;
}

function descendants(node: Nodes): Nodes[] {
  const out: Nodes[] = [];
  const stack: Nodes[] = [node];
  while (stack.length) {
    const n = stack.pop()!;
    out.push(n);
    if ("children" in n) for (let i = n.children.length - 1; i >= 0; i--) stack.push(n.children[i] as Nodes);
  }
  return out;
}

function stepsSection(root: Root, ctx: Ctx): List[] | undefined {
  const index = root.children.findIndex((n) => n.type === "heading" && plainText(n).trim().toLowerCase() === "steps");
  if (index < 0) {
    report(ctx, "error", 1, 1, "no-steps-heading", 'SOP.md has no "Steps" heading; put the steps in an ordered list under "## Steps"');
    return undefined;
  }
  const heading = root.children[index] as Extract<RootContent, { type: "heading" }>;
  const section: RootContent[] = [];
  for (const node of root.children.slice(index + 1)) {
    if (node.type === "heading" && node.depth <= heading.depth) break;
    section.push(node);
  }
  const lists = section.filter((n): n is List => n.type === "list" && n.ordered === true);
  if (lists.length === 0) {
    const bullets = section.find((n) => n.type === "list");
    const at = (bullets ?? heading).position!.start;
    report(ctx, "error", at.line, at.column, bullets ? "unordered-steps" : "no-steps",
      bullets ? 'steps must be an ordered list ("1. …")' : 'the "Steps" heading has no ordered list of steps under it');
    return undefined;
  }
  const first = section.indexOf(lists[0]!);
  const last = section.indexOf(lists[lists.length - 1]!);
  for (const node of section.slice(first, last + 1)) {
    if (node.type === "code") {
      const at = node.position!.start;
      report(ctx, "warning", at.line, at.column, "code-outside-step", "this code block is outside any step; indent it under the step it belongs to");
    }
  }
  return lists;
}

function writtenNumber(ctx: Ctx, item: ListItem): number | undefined {
  const m = /^\s*(\d{1,9})[.)]/.exec(ctx.md.slice(item.position!.start.offset, item.position!.start.offset! + 12));
  return m ? Number(m[1]) : undefined;
}

function checkFence(ctx: Ctx, code: Code): void {
  const src = ctx.md.slice(code.position!.start.offset, code.position!.end.offset);
  const open = /^\s*(`{3,}|~{3,})/.exec(src);
  if (!open) return;
  const lines = src.trimEnd().split("\n");
  const close = lines.length > 1 ? lines[lines.length - 1]!.trim() : "";
  if (!(close.startsWith(open[1]!) && /^(`+|~+)$/.test(close))) {
    report(ctx, "warning", code.position!.start.line, code.position!.start.column, "unclosed-fence", "code fence opened here is never closed");
  }
}

function locate(paragraph: Paragraph, offset: number): { line: number; column: number } {
  return { line: paragraph.position!.start.line, column: paragraph.position!.start.column + offset };
}

function parseItem(ctx: Ctx, item: ListItem, number: number): Step | undefined {
  const start = item.position!.start;
  const para = item.children[0]?.type === "paragraph" ? item.children[0] : undefined;
  const opts: StepOptions = {};
  const metadata: Record<string, string> = {};
  const seen = new Map<string, string>();
  const description: string[] = [];
  let title = "";
  if (para) {
    const from = para.position!.start.offset!;
    const text = ctx.md.slice(from, para.position!.end.offset);
    const newline = text.indexOf("\n");
    const firstLine = newline < 0 ? text : text.slice(0, newline);
    let rest = firstLine;
    let restOffset = 0;
    const lead = para.children[0];
    if (lead?.type === "strong" && lead.position!.start.offset === from) {
      title = plainText(lead).trim();
      restOffset = lead.position!.end.offset! - from;
      rest = firstLine.slice(restOffset);
    }
    const open = findGroup(rest);
    if (open >= 0) {
      if (!title) title = rest.slice(0, open).trim();
      const group = parseAttributeGroup(firstLine, restOffset + open);
      if (!group.ok) {
        const at = locate(para, group.offset);
        report(ctx, "error", at.line, at.column, "bad-attributes", group.message);
      } else {
        for (const a of group.attributes) applyOne(ctx, opts, seen, metadata, a.key, a.value, locate(para, a.keyOffset), locate(para, a.valueOffset), "attribute");
        const after = firstLine.slice(group.end).trim();
        if (after.startsWith("[")) {
          const at = locate(para, group.end + firstLine.slice(group.end).indexOf("["));
          report(ctx, "error", at.line, at.column, "second-attribute-group", "a step takes one attribute group; merge them into one [key: value, …]");
        } else if (after) description.push(after);
      }
    } else if (!title) {
      title = rest.trim();
    } else if (rest.trim()) {
      title = `${title} ${rest.trim()}`.trim();
    }
    if (newline >= 0) description.push(text.slice(newline + 1));
  }
  if (!title) {
    report(ctx, "error", start.line, start.column, "no-title", `step ${number} has no title; start it with **Title**`);
    return undefined;
  }
  const commands: string[] = [];
  const shown: { lang: string; code: string }[] = [];
  for (const child of item.children.slice(para ? 1 : 0)) {
    if (child.type === "list" && !child.ordered && isBulletList(child)) {
      for (const bullet of child.children) {
        const m = BULLET.exec(plainText(bullet).trim())!;
        const at = bullet.position!.start;
        const keyAt = { line: at.line, column: at.column + 2 };
        applyOne(ctx, opts, seen, metadata, m[1]!, m[2]!.trim(), keyAt, keyAt, "bullet");
      }
      continue;
    }
    if (child.type !== "code") description.push(ctx.md.slice(child.position!.start.offset, child.position!.end.offset));
  }
  for (const node of descendants(item)) {
    if (node.type !== "code") continue;
    checkFence(ctx, node);
    const lang = (node.lang ?? "").toLowerCase();
    if (RUNNABLE.has(lang)) commands.push(node.value);
    else shown.push({ lang, code: node.value });
  }
  if (opts.manual && commands.length > 0) {
    report(ctx, "warning", start.line, start.column, "manual-with-commands", `step ${number} is manual: its commands will not run (a person marks it Done or Failed)`);
  }
  const step: Step = {
    number, title, slug: slugify(title), description: dedent(description.join("\n")).trim(), commands, shown,
    requiresApproval: opts.requiresApproval ?? false, manual: opts.manual ?? false, retries: opts.retries ?? 0,
    continueOnError: opts.continueOnError ?? false, always: opts.always ?? false, metadata, line: start.line,
  };
  if (opts.condition) step.condition = opts.condition;
  if (opts.timeoutSecs !== undefined) step.timeoutSecs = opts.timeoutSecs;
  return step;
}

/** An attribute group opens with `[key:` on the title line. */
function findGroup(text: string): number {
  const m = /\[\s*[A-Za-z_][A-Za-z0-9_-]*\s*:/.exec(text);
  if (m) return m.index;
  const bare = text.lastIndexOf("[");
  return bare >= 0 && !text.slice(bare).includes("](") && /\[[^\]]*$|\[\s*\]/.test(text.slice(bare)) ? bare : -1;
}

function isBulletList(list: List): boolean {
  return list.children.length > 0 && list.children.every((li) =>
    li.children.length === 1 && li.children[0]!.type === "paragraph" && !plainText(li).trim().includes("\n") && BULLET.test(plainText(li).trim()));
}

function applyOne(
  ctx: Ctx, opts: StepOptions, seen: Map<string, string>, metadata: Record<string, string>,
  rawKey: string, value: string, keyAt: { line: number; column: number }, valueAt: { line: number; column: number }, from: "attribute" | "bullet",
): void {
  const key = from === "bullet" && rawKey === "requires_confirmation" ? "requires_approval" : rawKey;
  if (!isKnownAttribute(key)) {
    if (from === "bullet") metadata[key] = value;
    else report(ctx, "warning", keyAt.line, keyAt.column, "unknown-attribute", `unknown step attribute "${key}" (known: if, requires_approval, manual, timeout, retries, continue_on_error, always)${suggestKey(key)}`);
    return;
  }
  const before = seen.get(key);
  if (before !== undefined) {
    report(ctx, "error", keyAt.line, keyAt.column, "duplicate-attribute", `attribute "${key}" is set twice (first as ${before})`);
    return;
  }
  seen.set(key, from === "bullet" ? `a bullet` : `an attribute`);
  const problem = applyAttribute(opts, key, value);
  if (!problem) return;
  const at = problem.at === "key" ? keyAt : { line: valueAt.line, column: valueAt.column + (problem.inner ?? 0) };
  report(ctx, problem.severity, at.line, at.column, problem.code, problem.message);
}

function dedent(text: string): string {
  const lines = text.split("\n");
  const indents = lines.filter((l) => l.trim()).map((l) => l.length - l.trimStart().length);
  const cut = indents.length ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(Math.min(cut, l.length - l.trimStart().length))).join("\n");
}

export function parseProcedure(markdown: string, file: string): { steps: Step[]; diagnostics: Diagnostic[] } {
  const ctx: Ctx = { md: markdown, file, diagnostics: [] };
  let root: Root;
  try {
    root = processor.parse(markdown);
  } catch (err) {
    report(ctx, "error", 1, 1, "markdown", `cannot parse SOP.md: ${(err as Error).message}`);
    return { steps: [], diagnostics: ctx.diagnostics };
  }
  const lists = stepsSection(root, ctx);
  if (!lists) return { steps: [], diagnostics: ctx.diagnostics };
  const steps: Step[] = [];
  let previous: number | undefined;
  let position = 0;
  for (const list of lists) {
    for (const item of list.children) {
      position++;
      const written = writtenNumber(ctx, item);
      if (written !== undefined && previous !== undefined && written !== previous + 1) {
        const at = item.position!.start;
        report(ctx, "warning", at.line, at.column, "step-numbering", `step numbered ${written} follows ${previous}`);
      }
      if (written !== undefined) previous = written;
      const step = parseItem(ctx, item, position);
      if (step) steps.push(step);
    }
  }
  return { steps, diagnostics: ctx.diagnostics };
}
