/**
 * A step's first line: its title and its one `[key: value, …]` attribute group. The structure
 * (first paragraph, its bold, inline code) comes from mdast; the group is read from the
 * source text of that line so every key and value keeps its exact column.
 */
import type { ListItem, Paragraph, Strong } from "mdast";
import { lineAt, lineEnd, report, type ProcedureContext } from "./procedure-context.ts";
import { collapseSpace, descendants, endOffset, plainText, startOf, startOffset } from "./procedure-tree.ts";
import { looksLikeAttributeGroup, parseAttributeGroup, type AttributeToken } from "./step-attributes.ts";

export interface StepHeader {
  /** Empty when the item has no title (the caller reports it). */
  title: string;
  /** The first line (1-based) of the item that belongs to the description. */
  bodyLine: number;
  /** Text beside a bold title that is neither title nor attributes; it opens the description. */
  leftover: string;
  /** The group's attributes, offsets absolute in SOP.md. */
  attributes: AttributeToken[];
}

export function readStepHeader(ctx: ProcedureContext, item: ListItem): StepHeader {
  const first = item.children[0];
  if (first?.type !== "paragraph") return { title: "", bodyLine: startOf(item).line, leftover: "", attributes: [] };
  const from = startOffset(first);
  const firstLineEnd = Math.min(lineEnd(ctx, lineAt(ctx, from)), endOffset(first));
  const bold = titleBold(ctx, first, from, firstLineEnd);
  // A bold title may wrap; its attributes follow on the line where the bold ends.
  const line = lineAt(ctx, bold ? endOffset(bold) : from);
  const to = Math.max(from, Math.min(lineEnd(ctx, line), endOffset(first)));
  const scan = scanGroups(ctx, first, from, to, bold ? [startOffset(bold), endOffset(bold)] : undefined);
  for (const e of scan.errors) report(ctx, "error", e.code, e.offset, e.message);
  if (!bold) return { title: collapseSpace(scan.before), bodyLine: line + 1, leftover: "", attributes: scan.attributes };
  // ZeroClaw writes "**Title** — description": a dash that opens the description only separates.
  const before = collapseSpace(scan.before);
  const after = collapseSpace(scan.after);
  const leftover = before === "" ? after.replace(/^[—–-](?:\s+|$)/, "") : collapseSpace(`${before} ${after}`);
  return { title: plainText(bold), bodyLine: line + 1, leftover, attributes: scan.attributes };
}

/**
 * The title: the first bold text that starts on the item's first line, wherever it stands there
 * (SPEC §2.2), unless it sits inside the attribute group (`[if: a == "**x**"]`). Bold inside a
 * link or emphasis is part of that, not a title.
 */
function titleBold(ctx: ProcedureContext, paragraph: Paragraph, from: number, to: number): Strong | undefined {
  let groups: [number, number][] | undefined;
  for (const node of paragraph.children) {
    if (node.type !== "strong") continue;
    const start = startOffset(node);
    if (start >= to) return undefined;
    if (start === from) return node;
    groups ??= scanGroups(ctx, paragraph, from, to).groups;
    if (!groups.some(([open, close]) => open <= start && start < close)) return node;
  }
  return undefined;
}

interface GroupScan {
  /** The text before the title (all of it without one) and after it, groups taken out. */
  before: string;
  after: string;
  /** The first group's attributes, offsets absolute in SOP.md. */
  attributes: AttributeToken[];
  /** Every group's `[` and end, absolute. */
  groups: [number, number][];
  /** Reported by the caller, so a scan that only looks reports nothing. */
  errors: { code: string; offset: number; message: string }[];
}

/**
 * Finds the attribute group(s) in `[from, to)`, around the title's bold span when there is one.
 * A group opens at a `[` shaped like `[key:`, or at any `[` straight after a bold title (so
 * `**A** [if x]` is an error, not description); never at an escaped `\[`, inside inline code or
 * inside the title. Only the first group counts.
 */
function scanGroups(
  ctx: ProcedureContext,
  paragraph: Paragraph,
  from: number,
  to: number,
  title?: [number, number],
): GroupScan {
  const text = ctx.text.slice(from, to);
  const shielded = inlineCodeSpans(paragraph, from, to);
  const [titleStart, titleEnd] = title ? [title[0] - from, title[1] - from] : [text.length, text.length];
  if (title) shielded.push([titleStart, titleEnd]);
  shielded.sort((a, b) => a[0] - b[0]);
  const afterTitle = titleEnd + (text.length - titleEnd - text.slice(titleEnd).trimStart().length);
  const before: string[] = [];
  const after: string[] = [];
  const groups: [number, number][] = [];
  let attributes: AttributeToken[] | undefined;
  const errors: GroupScan["errors"] = [];
  let cursor = 0;
  let span = 0;
  const keep = (end: number) => {
    if (cursor < titleStart) before.push(text.slice(cursor, Math.min(end, titleStart)));
    if (end > titleEnd) after.push(text.slice(Math.max(cursor, titleEnd), end));
  };
  for (let i = text.indexOf("["); i >= 0; i = text.indexOf("[", i + 1)) {
    while ((shielded[span]?.[1] ?? Infinity) <= i) span++;
    if (text[i - 1] === "\\" || (shielded[span]?.[0] ?? Infinity) <= i) continue;
    if (!looksLikeAttributeGroup(text, i) && !(title && i === afterTitle && attributes === undefined)) continue;
    const group = parseAttributeGroup(text, i);
    // `[text](url)` is a link, not attributes.
    if (text[group.end] === "(") {
      i = group.end - 1;
      continue;
    }
    keep(i);
    groups.push([from + i, from + group.end]);
    if (attributes === undefined) {
      attributes = group.attributes.map((a) => ({ ...a, keyOffset: from + a.keyOffset, rawOffset: from + a.rawOffset }));
      for (const e of group.errors) errors.push({ code: "attribute-syntax", offset: from + e.offset, message: e.message });
    } else if (groups.length === 2) {
      errors.push({ code: "second-attribute-group", offset: from + i, message: "a step takes one attribute group; merge this one into the first" });
    }
    cursor = group.end;
    i = group.end - 1;
  }
  keep(text.length);
  return { before: before.join(" "), after: after.join(" "), attributes: attributes ?? [], groups, errors };
}

/** Spans of inline code within `[from, to)`, relative to `from`. */
function inlineCodeSpans(paragraph: Paragraph, from: number, to: number): [number, number][] {
  const spans: [number, number][] = [];
  for (const child of paragraph.children) {
    if (startOffset(child) >= to) break;
    if (endOffset(child) <= from) continue;
    for (const node of descendants(child)) {
      if (node.type === "inlineCode") spans.push([startOffset(node) - from, endOffset(node) - from]);
    }
  }
  return spans;
}
