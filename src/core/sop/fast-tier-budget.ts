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
import type { Budget, MarkdownLimits } from "./markdown-limits.ts";

/**
 * Characters markdown-it reads differently from micromark: tabs (columns), CR line endings
 * (markdown-it normalizes them first), NUL (replaced), and Unicode whitespace other than the
 * space and "\n" (markdown-it trims paragraphs with JavaScript's trim, which drops them): all
 * that JavaScript's \s matches but those two.
 */
const UNLIKE_WHITESPACE = /[\t\v\f\r\0\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;
/** How far a failed `&…;` or `][label]` can read: the longest entity name, a label's 999. */
const REFERENCE_READ = 40;
const LABEL_READ = 1_002;
/** Slack for a construct tried twice at one offset (autolink and HTML both at "<" …). */
const RETRIES = 2;

/** The counts, file-wide and the most in one chunk; one pass fills them, without a parser. */
interface Tally {
  emphasis: number;
  brackets: number;
  inline: number;
  lookahead: number;
  blocks: number;
  setext: number;
  definitions: number;
  lines: number;
  /** The most containers any line can open or continue. */
  deepest: number;
  most: { emphasis: number; brackets: number; inline: number };
}

/** One run of non-blank lines, where every paragraph lies whole. */
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

/** Upper bounds of what micromark's budget would count on `text`, shaped as limits. */
export function budgetBounds(text: string): MarkdownLimits {
  const tally: Tally = { emphasis: 0, brackets: 0, inline: 0, lookahead: 0, blocks: 0, setext: 0, definitions: 0, lines: 0, deepest: 0, most: { emphasis: 0, brackets: 0, inline: 0 } };
  let chunk = newChunk();
  for (let start = 0; start <= text.length; ) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    if (countLine(text, start, end, tally, chunk)) {
      closeChunk(tally, chunk);
      chunk = newChunk();
    }
    start = end + 1;
  }
  closeChunk(tally, chunk);
  // Every open container tries to continue on every line. The containers open at any line were
  // all open on the line where the innermost of them opened: at most `deepest`.
  const nesting = RETRIES * tally.lines * tally.deepest;
  return {
    emphasis: { paragraph: tally.most.emphasis, file: tally.emphasis },
    brackets: { paragraph: tally.most.brackets, file: tally.brackets },
    lookahead: { file: tally.lookahead },
    inline: { paragraph: tally.most.inline, file: tally.inline },
    blocks: { file: tally.blocks },
    nesting: { file: nesting },
    setext: { file: tally.setext },
    definitions: { file: tally.definitions },
  };
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

function newChunk(): Chunk {
  return { length: 0, emphasis: 0, brackets: 0, inline: 0, readsToEnd: 0, labels: 0, references: 0 };
}

function closeChunk(tally: Tally, chunk: Chunk): void {
  tally.emphasis += chunk.emphasis;
  tally.brackets += chunk.brackets;
  tally.inline += chunk.inline;
  tally.most.emphasis = Math.max(tally.most.emphasis, chunk.emphasis);
  tally.most.brackets = Math.max(tally.most.brackets, chunk.brackets);
  tally.most.inline = Math.max(tally.most.inline, chunk.inline);
  tally.lookahead += (chunk.readsToEnd * chunk.length + chunk.labels * LABEL_READ + chunk.references * REFERENCE_READ + chunk.brackets * 2) * RETRIES;
}

/** Counts the line `text[start, end)` into `tally` and `chunk`; true when it is blank (ends the chunk). */
function countLine(text: string, start: number, end: number, tally: Tally, chunk: Chunk): boolean {
  tally.lines++;
  // The leading run of spaces and marker characters, where containers open and continue.
  let quotes = 0;
  let markers = 0;
  let blank = true;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 32) continue;
    blank = false;
    if (c === 62) quotes++;
    // * + - . )
    else if (c === 42 || c === 43 || c === 45 || c === 46 || c === 41) markers++;
    else if (c < 48 || c > 57) break;
  }
  if (blank) return true;
  const run = i - start;
  // A quote takes its ">", a list item at least two columns, the last opened maybe one.
  tally.deepest = Math.max(tally.deepest, quotes + Math.ceil((run - quotes) / 2));
  tally.blocks += 1 + quotes + markers;
  if (text.charCodeAt(i) === 91) tally.definitions++;
  let underline = true;
  let rule = false;
  chunk.length += end - start + 1;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    switch (c) {
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
        if (text.charCodeAt(k + 1) === 40) chunk.readsToEnd++;
        else if (text.charCodeAt(k + 1) === 91) chunk.labels++;
        break;
      case 96: // `, once per run
        chunk.inline++;
        if (text.charCodeAt(k - 1) !== 96) chunk.readsToEnd++;
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
    // A setext underline is "=" or "-" after the containers: a line of only those characters,
    // spaces and marker characters could be one. Once a line can't be one, its other characters
    // need not be asked.
    if (!underline) continue;
    if (c === 61 || c === 45) rule = true;
    else if (c !== 32 && c !== 62 && c !== 42 && c !== 43 && c !== 46 && c !== 41 && (c < 48 || c > 57)) underline = false;
  }
  if (underline && rule) tally.setext++;
  return false;
}
