/**
 * How a refusal for being past an SOP.md limit reads, written out here rather than taken from
 * the parser, so that a test of a refusal also checks its words; and the outcome of one parse of
 * a pathological shape: it parses, or it is refused with one located error.
 */
import { REFUSALS } from "../../src/core/sop/markdown-limits.ts";
import type { Diagnostic } from "../../src/core/sop/types.ts";

type Where = "this paragraph" | "SOP.md";

const escapeHint = (escaped: string) => `escape the literal ones as ${escaped}, or put them in \`code\` or a code block`;

export const emphasisRefusal = (where: Where, max: number) => `${where} has more than ${max} "*" and "_" that can open or close emphasis; ${escapeHint("\\* and \\_")}`;
export const bracketsRefusal = (where: Where, max: number) => `${where} has more than ${max} "[", "![" and "]"; ${escapeHint("\\[ and \\]")}`;
export const inlineRefusal = (where: Where, max: number) =>
  `${where} has more than ${max} pieces of inline Markdown outside code (runs of "*" or "_", brackets, backticks, backslashes, "&" and "<"); ` +
  "put long literal text in a code block, or split it";
export const unclosedRefusal = (max: number) =>
  'SOP.md has too many code spans, links or HTML that never close (a run of backticks, "<!--", "<?", "](" …), and for each the parser ' +
  `reads on to the end of its paragraph (more than ${max} characters in all); close them, or escape their first character with a backslash`;
export const blocksRefusal = (max: number) => `SOP.md has more than ${max} blocks (paragraphs, list items, headings, code blocks, quotes); split it into several SOPs`;
export const nestingRefusal = (max: number) =>
  `SOP.md has more than ${max} lines inside lists and quotes, counting each level of nesting; flatten the nesting, or split the SOP`;
export const setextRefusal = (max: number) => `SOP.md has more than ${max} headings underlined with "=" or "-"; write them with "#", or put a blank line above a line of dashes`;
export const definitionsRefusal = (max: number) => `SOP.md has more than ${max} link definitions ("[name]: url"); write the links inline`;
/** Refused before remark reads the text, always at the first line past the limit. */
export const linesRefusal = (count: number, max: number) => `SOP.md:${max + 1}:1: SOP.md has ${count} lines, more than ${max}; split it into several SOPs`;

/** Diagnostics as the user sees them. */
export const shown = (d: Diagnostic) => `${d.file}:${d.line}:${d.column}: ${d.message}`;

export const LIMIT_CODES: ReadonlySet<string> = new Set([...Object.values(REFUSALS).map((refusal) => refusal.code), "too-many-lines", "too-deep"]);

export const PARSES = "parses";

/** PARSES when nothing is refused for being past a limit; else every diagnostic as shown, one a line. */
export function outcomeOf(diagnostics: readonly Diagnostic[]): string {
  return diagnostics.some((d) => LIMIT_CODES.has(d.code)) ? diagnostics.map(shown).join("\n") : PARSES;
}
