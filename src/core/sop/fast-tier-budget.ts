/**
 * When the fast tier may parse SOP.md at all: only where no Markdown limit could trip, so that
 * micromark, metered by markdown-budget.ts, would never have refused the text. The counts
 * micromark takes are exact and need its parse; here each is bounded from above by counting
 * characters and lines, which takes one pass and no parser. The bounds are loose on purpose: a
 * file near a limit simply goes to micromark, which then decides.
 *
 * What makes them bounds (markdown-budget.ts says what each count is):
 * - a paragraph never spans a blank line, so per-paragraph counts are bounded by the same count
 *   over each run of non-blank lines ("chunk"), and a failed construct reads ahead at most to the
 *   end of its chunk;
 * - every container (list item, quote) opens or continues on a line's leading run of spaces and
 *   marker characters: a quote takes its ">", a list item at least two columns (marker and
 *   space, or its content's indentation), but the last opened on a line may take one ("-" alone);
 *   and a line starts at most one block besides its containers;
 * - a setext underline or a link definition starts a line, after that leading run.
 */
import { MARKDOWN_LIMITS, type Budget, type Limit, type MarkdownLimits } from "./markdown-limits.ts";

/**
 * Characters markdown-it reads differently from micromark: tabs (columns), CR line endings
 * (markdown-it normalizes them first), NUL (replaced), and Unicode whitespace other than the
 * space (markdown-it trims paragraphs with JavaScript's trim, which drops them).
 */
const UNLIKE_WHITESPACE = /[^\S \n]|\0/;
/** Spaces and the characters of list and quote markers, where containers open. */
const LEADING_RUN = /^[ >*+\-.)0-9]*/;
const BLANK = /^ *$/;
/** A line that could be a setext underline, inside containers or not. */
const UNDERLINE = /^[ >*+\-.)0-9]*[=-]+ *$/;

/** How far a failed `&…;` or `][label]` can read: the longest entity name, a label's 999. */
const REFERENCE_READ = 40;
const LABEL_READ = 1_002;
/** Slack for a construct tried twice at one offset (autolink and HTML both at "<" …). */
const RETRIES = 2;

/** Upper bounds of what micromark's budget would count on `text`, shaped as limits. */
export function budgetBounds(text: string): MarkdownLimits {
  const file = new Map<Budget, number>();
  const paragraph = new Map<Budget, number>();
  const add = (budget: Budget, n: number, perParagraph = 0): void => {
    file.set(budget, (file.get(budget) ?? 0) + n);
    if (perParagraph > (paragraph.get(budget) ?? 0)) paragraph.set(budget, perParagraph);
  };
  const lines = text.split("\n");
  let deepest = 0;
  let chunk = newChunk();
  const closeChunk = (): void => {
    add("emphasis", chunk.emphasis, chunk.emphasis);
    add("brackets", chunk.brackets, chunk.brackets);
    add("inline", chunk.inline, chunk.inline);
    const reads = (chunk.readsToEnd * chunk.length + chunk.labels * LABEL_READ + chunk.references * REFERENCE_READ + chunk.brackets * 2) * RETRIES;
    add("lookahead", reads);
    chunk = newChunk();
  };
  for (const line of lines) {
    const run = LEADING_RUN.exec(line)?.[0] ?? "";
    deepest = Math.max(deepest, containerDepth(run));
    add("blocks", 1 + countMarkers(run));
    if (UNDERLINE.test(line)) add("setext", 1);
    if (line.charCodeAt(run.length) === 91) add("definitions", 1);
    if (BLANK.test(line)) closeChunk();
    else countInline(line, chunk);
  }
  closeChunk();
  // Every open container tries to continue on every line. The containers open at any line were
  // all open on the line where the innermost of them opened: at most `deepest`.
  add("nesting", RETRIES * lines.length * deepest);
  const bound = (budget: Budget): Limit => {
    const limit: Limit = { file: file.get(budget) ?? 0 };
    if (MARKDOWN_LIMITS[budget].paragraph !== undefined) limit.paragraph = paragraph.get(budget) ?? 0;
    return limit;
  };
  const budgets = Object.keys(MARKDOWN_LIMITS) as Budget[];
  return Object.fromEntries(budgets.map((b) => [b, bound(b)])) as Record<Budget, Limit>;
}

/** Whether `text` is one the fast tier may parse under `limits`: no limit can trip on it. */
export function fastTierAccepts(text: string, limits: MarkdownLimits): boolean {
  if (UNLIKE_WHITESPACE.test(text)) return false;
  const bounds = budgetBounds(text);
  return (Object.keys(limits) as Budget[]).every((budget) => {
    const bound = bounds[budget];
    const limit = limits[budget];
    const paragraphOk = limit.paragraph === undefined || (bound.paragraph ?? bound.file) <= limit.paragraph;
    return paragraphOk && bound.file <= limit.file;
  });
}

interface Chunk {
  length: number;
  emphasis: number;
  brackets: number;
  inline: number;
  /** Constructs that, failing, may read to the end of the paragraph: code spans, "<", "](". */
  readsToEnd: number;
  labels: number;
  references: number;
}

function newChunk(): Chunk {
  return { length: 0, emphasis: 0, brackets: 0, inline: 0, readsToEnd: 0, labels: 0, references: 0 };
}

/** The most containers a leading run can open or continue. */
function containerDepth(run: string): number {
  let quotes = 0;
  for (let i = 0; i < run.length; i++) if (run.charCodeAt(i) === 62) quotes++;
  return quotes + Math.ceil((run.length - quotes) / 2);
}

function countMarkers(run: string): number {
  let n = 0;
  for (let i = 0; i < run.length; i++) {
    const c = run.charCodeAt(i);
    // > * + - . )
    if (c === 62 || c === 42 || c === 43 || c === 45 || c === 46 || c === 41) n++;
  }
  return n;
}

function countInline(line: string, chunk: Chunk): void {
  chunk.length += line.length + 1;
  for (let i = 0; i < line.length; i++) {
    switch (line.charCodeAt(i)) {
      case 42: // *
      case 95: // _
        chunk.emphasis++;
        chunk.inline++;
        break;
      case 91: // [
        chunk.brackets++;
        chunk.inline++;
        break;
      case 93: // ]
        chunk.brackets++;
        chunk.inline++;
        if (line.charCodeAt(i + 1) === 40) chunk.readsToEnd++;
        else if (line.charCodeAt(i + 1) === 91) chunk.labels++;
        break;
      case 96: // `, once per run
        chunk.inline++;
        if (line.charCodeAt(i - 1) !== 96) chunk.readsToEnd++;
        break;
      case 60: // <
        chunk.inline++;
        chunk.readsToEnd++;
        break;
      case 38: // &
        chunk.inline++;
        chunk.references++;
        break;
      case 33: // !, where an image's "![" is tried (and counted) even when no "[" follows
        chunk.brackets++;
        chunk.inline++;
        break;
      case 92: // \
        chunk.inline++;
        break;
    }
  }
}
