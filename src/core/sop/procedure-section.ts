/**
 * Finds the procedure in SOP.md: the ordered list(s) under the first `Steps` heading, up to the
 * next heading of the same or a higher level (SPEC §2.2). Only top-level blocks count, and
 * fenced code is a single `code` node to remark, so a `## Steps` inside a fence is never seen.
 */
import type { Code, Heading, List, ListItem, Root, RootContent } from "mdast";
import { lineAt, report, type ProcedureContext } from "./procedure-context.ts";
import { codeBlocks, endOffset, plainText, startOf, startOffset } from "./procedure-tree.ts";

const BLOCK_NAMES: Partial<Record<RootContent["type"], string>> = {
  code: "code block",
  paragraph: "paragraph",
  list: "bulleted list",
  blockquote: "quote",
  html: "HTML block",
  thematicBreak: "horizontal rule",
  definition: "link definition",
};

/** The list items that are the steps, in order; none (and an error) when there is no procedure. */
export function findStepItems(ctx: ProcedureContext, root: Root): ListItem[] {
  const headingIndex = root.children.findIndex((n) => n.type === "heading" && plainText(n).toLowerCase() === "steps");
  const heading = root.children[headingIndex];
  if (heading?.type !== "heading") {
    report(ctx, "error", "no-steps-heading", { line: 1, column: 1 }, 'SOP.md has no "Steps" heading');
    return [];
  }
  const section = sectionAfter(root, headingIndex, heading);
  for (const block of section) checkFences(ctx, block);
  const lists = section.filter((n): n is List => n.type === "list" && n.ordered === true);
  const first = lists[0];
  const last = lists[lists.length - 1];
  if (first === undefined || last === undefined) {
    const bullets = section.find((n) => n.type === "list");
    if (bullets) report(ctx, "error", "unordered-steps", startOf(bullets), 'steps must be an ordered list ("1. …")');
    else report(ctx, "error", "no-steps", startOf(heading), 'the "Steps" section has no numbered list of steps; add one, e.g. "1. **Build release**"');
    return [];
  }
  warnOutsideSteps(ctx, section, section.indexOf(first), section.indexOf(last));
  return lists.flatMap((list) => list.children);
}

function sectionAfter(root: Root, headingIndex: number, heading: Heading): RootContent[] {
  const section: RootContent[] = [];
  for (const node of root.children.slice(headingIndex + 1)) {
    if (node.type === "heading" && node.depth <= heading.depth) break;
    section.push(node);
  }
  return section;
}

/**
 * An unindented block between items ends the list, so whatever sits between two of the step
 * lists was almost certainly meant to belong to a step. After the last list only a code block is
 * suspicious: closing prose is normal, a stray command is not. Sub-headings group steps on purpose.
 */
function warnOutsideSteps(ctx: ProcedureContext, section: RootContent[], first: number, last: number): void {
  section.forEach((node, index) => {
    if (index <= first || node.type === "heading" || (node.type === "list" && node.ordered === true)) return;
    if (index > last && node.type !== "code") return;
    const name = BLOCK_NAMES[node.type] ?? "block";
    report(ctx, "warning", "outside-step", startOf(node), `this ${name} is outside any step; indent it under the step it belongs to`);
  });
}

function checkFences(ctx: ProcedureContext, block: RootContent): void {
  for (const node of codeBlocks(block)) {
    if (!fenceIsClosed(ctx, node)) {
      report(ctx, "warning", "unclosed-fence", startOf(node), "code fence opened here is never closed");
    }
  }
}

const OPENING_FENCE = /^(`{3,}|~{3,})/;

/** Indented code has no fence; a fenced block is closed when its source ends with a fence line. */
function fenceIsClosed(ctx: ProcedureContext, code: Code): boolean {
  const start = startOffset(code);
  const opening = OPENING_FENCE.exec(ctx.text.slice(start, start + 1024));
  if (!opening?.[1]) return true;
  const end = endOffset(code);
  if (lineAt(ctx, end) === lineAt(ctx, start)) return false;
  const fence = opening[1];
  const lastLine = ctx.text.slice(ctx.lineStarts[lineAt(ctx, end) - 1] ?? start, end).trimEnd();
  let run = lastLine.length;
  while (run > 0 && lastLine[run - 1] === fence[0]) run--;
  // Before the closing run there may be only indentation and blockquote markers.
  return lastLine.length - run >= fence.length && /^[\s>]*$/.test(lastLine.slice(0, run));
}
