/**
 * The Markdown limits of SOP.md: what each counts, how much is allowed, and what the author is
 * told past it. Each limit sits where micromark's time grows faster than the count, far above
 * what real SOPs use (an ordinary SOP.md as big as the 256 KiB cap uses at most about half of each);
 * markdown-budget.ts takes the counts while remark parses; the limits on the text itself (lines,
 * indentation, markers on a line) are in procedure-limits.ts. Measured with the shapes in
 * test/chaos/pathological-markdown.ts: `npm run bench -- parse-limits`.
 */
export type Budget = "emphasis" | "brackets" | "lookahead" | "inline" | "blocks" | "nesting" | "setext" | "definitions";

/** How much of one budget SOP.md may use. */
export interface Limit {
  /** Most units in one paragraph (or heading), where the cost grows with the square of that. */
  paragraph?: number;
  /** Most units in the whole file. */
  file: number;
}

export type MarkdownLimits = Readonly<Record<Budget, Readonly<Limit>>>;

/** The product's limits: what parseSop, and so every catalog, parses with. */
export const MARKDOWN_LIMITS: MarkdownLimits = {
  // Each match walks back over the paragraph and re-resolves what it spans.
  emphasis: { paragraph: 200, file: 10_000 },
  // Each label end walks back over the paragraph before it.
  brackets: { paragraph: 200, file: 10_000 },
  // Counted in characters: what a construct read before it gave up is read again as text.
  lookahead: { file: 1_000_000 },
  // Tens of microseconds each; in one paragraph, text left over between them is merged by
  // splicing the paragraph's events, once per line.
  inline: { paragraph: 1_000, file: 20_000 },
  // Up to a hundred microseconds each (a list item); nested items rewrite the events so far.
  blocks: { file: 4_000 },
  // Every open list item and quote is checked again on every line.
  nesting: { file: 10_000 },
  // Each rewrites every event of the document so far.
  setext: { file: 20 },
  // Every link end looks for its label in a list of all of them; a run of them parses in
  // quadratic time.
  definitions: { file: 200 },
};

interface Refusal {
  code: string;
  /** What is over the limit and what to change, for "this paragraph" or "SOP.md". */
  message: (where: string, max: number) => string;
}

const escapeHint = (escaped: string): string => `escape the literal ones as ${escaped}, or put them in \`code\` or a code block`;

/** What the author is told past each limit, whatever its number. */
export const REFUSALS: Readonly<Record<Budget, Refusal>> = {
  emphasis: {
    code: "too-much-emphasis",
    message: (where, max) => `${where} has more than ${max} "*" and "_" that can open or close emphasis; ${escapeHint("\\* and \\_")}`,
  },
  brackets: {
    code: "too-many-brackets",
    message: (where, max) => `${where} has more than ${max} "[", "![" and "]"; ${escapeHint("\\[ and \\]")}`,
  },
  lookahead: {
    code: "unclosed-inline-markup",
    message: (where, max) =>
      `${where} has too many code spans, links or HTML that never close (a run of backticks, "<!--", "<?", "](" …), ` +
      `and for each the parser reads on to the end of its paragraph (more than ${max} characters in all); ` +
      "close them, or escape their first character with a backslash",
  },
  inline: {
    code: "too-much-inline-markup",
    message: (where, max) =>
      `${where} has more than ${max} pieces of inline Markdown outside code (runs of "*" or "_", brackets, backticks, backslashes, "&" and "<"); ` +
      "put long literal text in a code block, or split it",
  },
  blocks: {
    code: "too-many-blocks",
    message: (where, max) => `${where} has more than ${max} blocks (paragraphs, list items, headings, code blocks, quotes); split it into several SOPs`,
  },
  nesting: {
    code: "too-much-nesting",
    message: (where, max) => `${where} has more than ${max} lines inside lists and quotes, counting each level of nesting; flatten the nesting, or split the SOP`,
  },
  setext: {
    code: "too-many-underlined-headings",
    message: (where, max) => `${where} has more than ${max} headings underlined with "=" or "-"; write them with "#", or put a blank line above a line of dashes`,
  },
  definitions: {
    code: "too-many-definitions",
    message: (where, max) => `${where} has more than ${max} link definitions ("[name]: url"); write the links inline`,
  },
};

/** Thrown from inside remark's parse; parseProcedure turns it into a diagnostic. */
export class MarkdownLimitError extends Error {
  constructor(
    readonly code: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}
