/**
 * Guards on the text, not a parser: refused before remark sees the text, with a located error.
 * remark spends tens of microseconds per line, and its time grows much faster than linearly with
 * list and quote nesting (5,000 levels take seconds to minutes; 40 nested bullets on each of
 * 3,000 lines, 80 s). Real SOPs have a few thousand lines and nest a few levels. What only
 * remark can count (blocks, emphasis, brackets …) is metered while it parses: markdown-budget.ts.
 */
import { MARKDOWN_LIMITS, type MarkdownLimits } from "./markdown-limits.ts";

export interface TextLimits {
  lines: number;
  /** Leading spaces, tabs (4 columns each) and ">" of one line. */
  indentColumns: number;
  /** List and quote markers that open one line. */
  markersOnALine: number;
}

/** Every limit of one SOP.md parse: on the text before remark, and on what remark counts. */
export interface ProcedureLimits {
  text: Readonly<TextLimits>;
  markdown: MarkdownLimits;
}

/**
 * The product's limits, which parseSop (and so every catalog and its parse cache) always uses;
 * a parse with other limits is for tests that prove each limit on small inputs.
 */
export const PROCEDURE_LIMITS: ProcedureLimits = {
  text: { lines: 10_000, indentColumns: 200, markersOnALine: 40 },
  markdown: MARKDOWN_LIMITS,
};

const MARKERS = /^(?:[ \t]*(?:[-*+>]|\d{1,9}[.)])(?=[ \t]|$))+/;
/** Line endings as micromark sees them: a lone CR ends a line too. */
const LINE_ENDING = /\r\n|\r|\n/;

export interface TextProblem {
  line: number;
  code: "too-many-lines" | "too-deep";
  message: string;
}

export function textProblem(markdown: string, limits: TextLimits): TextProblem | undefined {
  return clearlyWithin(markdown, limits) ? undefined : countedTextProblem(markdown, limits);
}

/** textProblem line by line, exactly: the first line past a limit, and its message. */
export function countedTextProblem(markdown: string, limits: TextLimits): TextProblem | undefined {
  const lines = markdown.split(LINE_ENDING);
  // A line ending at the very end closes the last line; it does not open another.
  const count = lines.at(-1) === "" ? lines.length - 1 : lines.length;
  if (count > limits.lines) {
    return { line: limits.lines + 1, code: "too-many-lines", message: `SOP.md has ${count} lines, more than ${limits.lines}; split it into several SOPs` };
  }
  for (const [index, text] of lines.entries()) {
    const line = index + 1;
    const indent = (/^[ \t>]*/.exec(text)?.[0] ?? "").replace(/\t/g, "    ").length;
    if (indent > limits.indentColumns) {
      return { line, code: "too-deep", message: `line is indented ${indent} columns; SOP.md nesting is limited to ${limits.indentColumns} columns` };
    }
    const lead = MARKERS.exec(text)?.[0] ?? "";
    const markers = lead.match(/[-*+>]|\d{1,9}[.)]/g)?.length ?? 0;
    if (markers > limits.markersOnALine) {
      return { line, code: "too-deep", message: `line opens ${markers} nested lists or quotes; SOP.md allows at most ${limits.markersOnALine} on one line` };
    }
  }
  return undefined;
}

/**
 * Whether no text limit can trip, by one pass over the characters: what textProblem finds for
 * nearly every SOP.md, without splitting it into lines and running three regexes on each. A
 * line's indentation and its markers lie within its leading run of spaces, tabs, ">" and marker
 * characters, at most 4 columns and one marker per character; each line ending (CR LF counted
 * twice) adds at most one line. Past these bounds textProblem counts exactly.
 */
function clearlyWithin(text: string, limits: TextLimits): boolean {
  const longestRun = Math.min(Math.floor(limits.indentColumns / 4), limits.markersOnALine);
  if (text.includes("\r")) return clearlyWithinByCharacter(text, limits.lines, longestRun);
  // Lines end with "\n" only: indexOf jumps from line to line, and only each line's start is read.
  let lines = 1;
  for (let start = 0; ; lines++) {
    if (leadingRunPast(text, start, longestRun)) return false;
    const end = text.indexOf("\n", start);
    if (end < 0) break;
    start = end + 1;
  }
  return lines <= limits.lines;
}

/** Whether the line at `start` opens with more than `longest` spaces, tabs and marker characters. */
function leadingRunPast(text: string, start: number, longest: number): boolean {
  for (let i = start; i <= start + longest; i++) {
    if (!isRunCharacter(text.charCodeAt(i))) return false;
  }
  return true;
}

/** space, tab, > - * + . ) and digits */
function isRunCharacter(c: number): boolean {
  return c === 32 || c === 9 || c === 62 || c === 45 || c === 42 || c === 43 || c === 46 || c === 41 || (c >= 48 && c <= 57);
}

/** clearlyWithin for a text with CR line endings, a character at a time. */
function clearlyWithinByCharacter(text: string, maxLines: number, longestRun: number): boolean {
  let lines = 1;
  let run = 0;
  let leading = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10 || c === 13) {
      lines++;
      run = 0;
      leading = true;
    } else if (leading) {
      if (isRunCharacter(c)) {
        if (++run > longestRun) return false;
      } else {
        leading = false;
      }
    }
  }
  return lines <= maxLines;
}
