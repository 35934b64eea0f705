/**
 * A guard, not a parser: remark's time grows much faster than linearly with list and quote
 * nesting (5,000 levels take seconds to minutes), so absurd nesting is refused with a located
 * error before remark sees the text. Real SOPs nest a few levels.
 */
export const MAX_INDENT_COLUMNS = 200;
export const MAX_MARKERS_ON_A_LINE = 40;

const MARKERS = /^(?:[ \t]*(?:[-*+>]|\d{1,9}[.)])(?=[ \t]|$))+/;

export function nestingProblem(markdown: string): { line: number; message: string } | undefined {
  let line = 0;
  for (const text of markdown.split("\n")) {
    line++;
    const indent = /^[ \t>]*/.exec(text)![0].replace(/\t/g, "    ").length;
    if (indent > MAX_INDENT_COLUMNS) {
      return { line, message: `line is indented ${indent} columns; SOP.md nesting is limited to ${MAX_INDENT_COLUMNS} columns` };
    }
    const lead = MARKERS.exec(text)?.[0] ?? "";
    const markers = lead.match(/[-*+>]|\d{1,9}[.)]/g)?.length ?? 0;
    if (markers > MAX_MARKERS_ON_A_LINE) {
      return { line, message: `line opens ${markers} nested lists or quotes; SOP.md allows at most ${MAX_MARKERS_ON_A_LINE} on one line` };
    }
  }
  return undefined;
}
