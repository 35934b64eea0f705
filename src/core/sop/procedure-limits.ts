/**
 * Guards on the text, not a parser: refused before remark sees the text, with a located error.
 * remark spends tens of microseconds per line, and its time grows much faster than linearly with
 * list and quote nesting (5,000 levels take seconds to minutes; 40 nested bullets on each of
 * 3,000 lines, 80 s). Real SOPs have a few thousand lines and nest a few levels. What only
 * remark can count (blocks, emphasis, brackets …) is metered while it parses: markdown-budget.ts.
 */
export const MAX_LINES = 10_000;
export const MAX_INDENT_COLUMNS = 200;
export const MAX_MARKERS_ON_A_LINE = 40;

const MARKERS = /^(?:[ \t]*(?:[-*+>]|\d{1,9}[.)])(?=[ \t]|$))+/;
/** Line endings as micromark sees them: a lone CR ends a line too. */
const LINE_ENDING = /\r\n|\r|\n/;

export interface TextProblem {
  line: number;
  code: "too-many-lines" | "too-deep";
  message: string;
}

export function textProblem(markdown: string): TextProblem | undefined {
  const lines = markdown.split(LINE_ENDING);
  // A line ending at the very end closes the last line; it does not open another.
  const count = lines.at(-1) === "" ? lines.length - 1 : lines.length;
  if (count > MAX_LINES) {
    return { line: MAX_LINES + 1, code: "too-many-lines", message: `SOP.md has ${count} lines, more than ${MAX_LINES}; split it into several SOPs` };
  }
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    const indent = /^[ \t>]*/.exec(text)![0].replace(/\t/g, "    ").length;
    if (indent > MAX_INDENT_COLUMNS) {
      return { line, code: "too-deep", message: `line is indented ${indent} columns; SOP.md nesting is limited to ${MAX_INDENT_COLUMNS} columns` };
    }
    const lead = MARKERS.exec(text)?.[0] ?? "";
    const markers = lead.match(/[-*+>]|\d{1,9}[.)]/g)?.length ?? 0;
    if (markers > MAX_MARKERS_ON_A_LINE) {
      return { line, code: "too-deep", message: `line opens ${markers} nested lists or quotes; SOP.md allows at most ${MAX_MARKERS_ON_A_LINE} on one line` };
    }
  }
  return undefined;
}
