/**
 * A step's first line: its title and its one `[key: value, …]` attribute group. The structure
 * (first paragraph, leading bold, inline code) comes from mdast; the group is read from the
 * source text of that line so every key and value keeps its exact column.
 */
import type { ListItem, Paragraph } from "mdast";
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
  const lead = first.children[0];
  const bold = lead?.type === "strong" && startOffset(lead) === startOffset(first) ? lead : undefined;
  // A bold title may wrap; its attributes follow on the line where the bold ends.
  const from = bold ? endOffset(bold) : startOffset(first);
  const line = lineAt(ctx, from);
  const to = Math.max(from, Math.min(lineEnd(ctx, line), endOffset(first)));
  const scan = scanGroups(ctx, first, from, to, bold !== undefined);
  const rest = collapseSpace(scan.rest);
  return bold
    ? { title: plainText(bold), bodyLine: line + 1, leftover: rest, attributes: scan.attributes }
    : { title: rest, bodyLine: line + 1, leftover: "", attributes: scan.attributes };
}

/**
 * Finds the attribute group(s) in `[from, to)`. A group opens at a `[` shaped like `[key:`, or
 * at any `[` straight after a bold title (so `**A** [if x]` is an error, not description);
 * never at an escaped `\[` or inside inline code. Only the first group counts.
 */
function scanGroups(
  ctx: ProcedureContext,
  paragraph: Paragraph,
  from: number,
  to: number,
  afterBold: boolean,
): { rest: string; attributes: AttributeToken[] } {
  const text = ctx.text.slice(from, to);
  const shielded = inlineCodeSpans(paragraph, from, to);
  const firstVisible = text.length - text.trimStart().length;
  const pieces: string[] = [];
  let attributes: AttributeToken[] | undefined;
  let extraReported = false;
  let cursor = 0;
  let span = 0;
  for (let i = text.indexOf("["); i >= 0; i = text.indexOf("[", i + 1)) {
    while ((shielded[span]?.[1] ?? Infinity) <= i) span++;
    if (text[i - 1] === "\\" || (shielded[span]?.[0] ?? Infinity) <= i) continue;
    if (!looksLikeAttributeGroup(text, i) && !(afterBold && i === firstVisible && attributes === undefined)) continue;
    const group = parseAttributeGroup(text, i);
    // `[text](url)` is a link, not attributes.
    if (text[group.end] === "(") {
      i = group.end - 1;
      continue;
    }
    pieces.push(text.slice(cursor, i));
    if (attributes === undefined) {
      attributes = group.attributes.map((a) => ({ ...a, keyOffset: from + a.keyOffset, rawOffset: from + a.rawOffset }));
      for (const e of group.errors) report(ctx, "error", "attribute-syntax", from + e.offset, e.message);
    } else if (!extraReported) {
      extraReported = true;
      report(ctx, "error", "second-attribute-group", from + i, "a step takes one attribute group; merge this one into the first");
    }
    cursor = group.end;
    i = group.end - 1;
  }
  pieces.push(text.slice(cursor));
  return { rest: pieces.join(" "), attributes: attributes ?? [] };
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
