/**
 * The inline half of the fast tier: markdown-it's inline tokens for one paragraph or heading →
 * remark's phrasing nodes with their positions. markdown-it keeps no inline positions, so the
 * walk replays its tokens over the paragraph's content, which it keeps as written: each token
 * must be found where the previous one ended (a delimiter's markup, a text's characters, an
 * escape as written), or the fast tier declines. Content offsets map to source offsets line by
 * line (see ContentLine); within a line they differ by a constant, since tabs never get here.
 */
import type { Link, PhrasingContent } from "mdast";
import type { Token } from "markdown-it";
import { decline } from "./fast-tier-decline.ts";
import { markdownIt } from "./fast-tier-markdown-it.ts";
import type { ProcedureContext } from "./procedure-context.ts";
import { span } from "./source-points.ts";

const { parseLinkDestination, parseLinkTitle } = markdownIt.helpers;

/** One line of a paragraph's content: its text and the source offset where it starts. */
export interface ContentLine {
  offset: number;
  text: string;
}

/**
 * Text the two parsers may read differently, so a text token that holds it is declined: an
 * image or a link markdown-it refused (its `validateLink`, a nesting limit), a tag or an
 * autolink, a character reference, a stray backtick run.
 */
const DOUBTFUL_TEXT = /\]\(|!\[|<[A-Za-z/!?]|&[#A-Za-z]|`/;
/**
 * Whether a `*` or `_` run can open or close depends on Unicode whitespace and punctuation next
 * to it, whose tables differ between parsers and versions: beside a delimiter only printable
 * ASCII, line ends, and letters, digits and marks (neither space nor punctuation to either
 * parser) are trusted.
 */
const ODD_BESIDE_DELIMITER = /[^\n -~\p{L}\p{N}\p{M}][*_]|[*_][^\n -~\p{L}\p{N}\p{M}]/u;

/**
 * Where a delimiter run can both open and close (`a**b`, `T****T`), CommonMark's "rule of 3"
 * applies, and micromark and markdown-it apply it to different lengths once a run is partly
 * used (`***T****T**` nests differently). Without such a run the rule never applies.
 */
function hasTwoWayDelimiter(content: string): boolean {
  for (let i = 0; i < content.length; i++) {
    const marker = content[i];
    if (marker !== "*" && marker !== "_") continue;
    let end = i;
    while (content[end] === marker) end++;
    const before = content[i - 1];
    const after = content[end];
    const left = !isSpace(after) && (!isPunctuation(after) || isSpace(before) || isPunctuation(before));
    const right = !isSpace(before) && (!isPunctuation(before) || isSpace(after) || isPunctuation(after));
    const both = marker === "*" ? left && right : left && right && isPunctuation(before) && isPunctuation(after);
    if (both) return true;
    i = end - 1;
  }
  return false;
}

/** Spaces and line ends (no tabs get here); the ends of the content count as space. */
function isSpace(char: string | undefined): boolean {
  return char === undefined || char === " " || char === "\n";
}

/** ASCII punctuation; other characters beside a delimiter are letters, digits or marks (ODD_BESIDE_DELIMITER). */
function isPunctuation(char: string | undefined): boolean {
  return char !== undefined && /[!-/:-@[-`{-~]/.test(char);
}

interface Frame {
  node: { type: "strong" | "emphasis" } | Link;
  markup: string;
  start: number;
  children: PhrasingContent[];
}

interface PendingText {
  value: string;
  start: number;
  end: number;
}

/** Walks `tokens` (the children of one inline token) over `content`, its text. */
export function inlineChildren(ctx: ProcedureContext, tokens: Token[], content: string, lines: ContentLine[]): PhrasingContent[] {
  if (ODD_BESIDE_DELIMITER.test(content)) decline("emphasis delimiter beside Unicode punctuation or space");
  if (hasTwoWayDelimiter(content)) decline("emphasis delimiter run that can both open and close");
  const starts: number[] = [];
  let at = 0;
  for (const line of lines) {
    starts.push(at);
    at += line.text.length + 1;
  }
  /**
   * The source offset of content index `ci`. The walk asks for offsets in order, never going
   * back, so the line a cursor is on only moves forward: linear over a paragraph of any length.
   */
  let cursor = 0;
  const source = (ci: number): number => {
    if (ci < (starts[cursor] ?? 0)) cursor = 0;
    while (cursor + 1 < starts.length && (starts[cursor + 1] ?? Infinity) <= ci) cursor++;
    const line = lines[cursor] ?? decline("content line");
    return line.offset + (ci - (starts[cursor] ?? 0));
  };
  const root: PhrasingContent[] = [];
  const stack: Frame[] = [];
  let pending: PendingText | undefined;
  const children = (): PhrasingContent[] => stack[stack.length - 1]?.children ?? root;
  const flush = (): void => {
    if (pending) children().push({ type: "text", value: pending.value, position: span(ctx, pending.start, pending.end) });
    pending = undefined;
  };
  const addText = (value: string, start: number, end: number): void => {
    if (pending) {
      pending.value += value;
      pending.end = end;
    } else {
      pending = { value, start, end };
    }
  };
  let ci = 0;
  for (const token of tokens) {
    switch (token.type) {
      case "text": {
        if (token.content === "") break;
        if (!content.startsWith(token.content, ci) || DOUBTFUL_TEXT.test(token.content)) decline("text");
        addText(token.content, source(ci), source(ci + token.content.length));
        ci += token.content.length;
        break;
      }
      case "text_special": {
        // Escapes only: a character reference is decoded by each parser from its own table.
        if (token.info !== "escape" || !content.startsWith(token.markup, ci)) decline("character reference");
        addText(token.content, source(ci), source(ci + token.markup.length));
        ci += token.markup.length;
        break;
      }
      case "softbreak": {
        while (content.charCodeAt(ci) === 32) ci++;
        if (content.charCodeAt(ci) !== 10) decline("soft break");
        // remark's line ending ends where the next line starts, before any indentation.
        const lineEnd = source(ci);
        addText("\n", lineEnd, lineEnd + 1);
        ci++;
        while (content.charCodeAt(ci) === 32) ci++;
        break;
      }
      case "code_inline": {
        flush();
        const end = codeSpanEnd(content, ci, token);
        children().push({ type: "inlineCode", value: token.content, position: span(ctx, source(ci), source(end)) });
        ci = end;
        break;
      }
      case "strong_open":
      case "em_open": {
        flush();
        if (!content.startsWith(token.markup, ci)) decline("emphasis opener");
        const type = token.type === "strong_open" ? "strong" : "emphasis";
        stack.push({ node: { type }, markup: token.markup, start: source(ci), children: [] });
        ci += token.markup.length;
        break;
      }
      case "strong_close":
      case "em_close": {
        flush();
        const frame = stack.pop();
        const type = token.type === "strong_close" ? "strong" : "emphasis";
        if (frame?.node.type !== type || frame.markup !== token.markup || !content.startsWith(token.markup, ci)) decline("emphasis closer");
        ci += token.markup.length;
        children().push({ type, children: frame.children, position: span(ctx, frame.start, source(ci)) });
        break;
      }
      case "link_open": {
        flush();
        if (token.markup === "autolink" || content.charCodeAt(ci) !== 91) decline("link opener");
        stack.push({ node: { type: "link", url: "", title: null, children: [] }, markup: "", start: source(ci), children: [] });
        ci++;
        const frame = stack[stack.length - 1];
        if (frame?.node.type === "link") linkTarget(frame.node, token);
        break;
      }
      case "link_close": {
        flush();
        const frame = stack.pop();
        if (frame?.node.type !== "link") decline("link closer");
        ci = resourceEnd(content, ci, frame.node);
        children().push({ ...frame.node, children: frame.children, position: span(ctx, frame.start, source(ci)) });
        break;
      }
      default:
        // Hard breaks, images, inline HTML: left to micromark.
        decline(`inline ${token.type}`);
    }
  }
  flush();
  if (stack.length > 0 || ci !== content.length) decline("inline content not consumed");
  return root;
}

/** Keeps what markdown-it made of the link's target, to check it against the source later. */
function linkTarget(link: Link, token: Token): void {
  const href = token.attrGet("href");
  const title = token.attrGet("title");
  if (typeof href !== "string" || typeof title === "number") decline("link without href");
  link.url = href;
  link.title = title;
}

/** The end of the code span that opens at `ci`, its content checked against markdown-it's. */
function codeSpanEnd(content: string, ci: number, token: Token): number {
  const fence = token.markup;
  if (!content.startsWith(fence, ci) || content.charCodeAt(ci + fence.length) === 96) decline("code span opener");
  let close = content.indexOf(fence, ci + fence.length);
  // The closing run is a run of exactly as many backticks.
  while (close >= 0 && (content.charCodeAt(close + fence.length) === 96 || content.charCodeAt(close - 1) === 96)) {
    let after = close;
    while (content.charCodeAt(after) === 96) after++;
    close = content.indexOf(fence, after);
  }
  if (close < 0) decline("code span closer");
  const raw = content.slice(ci + fence.length, close);
  // Across lines, each parser strips the next line's indentation its own way.
  if (raw.includes("\n")) decline("code span across lines");
  const value = raw.length > 1 && raw.startsWith(" ") && raw.endsWith(" ") && raw.trim() !== "" ? raw.slice(1, -1) : raw;
  if (value !== token.content) decline("code span content");
  return close + fence.length;
}

/**
 * The end of an inline link's `](destination "title")` at `ci`; fills in the link's url and
 * title as remark has them (decoded, not percent-encoded), once they agree with markdown-it's.
 */
function resourceEnd(content: string, ci: number, link: Link): number {
  if (!content.startsWith("](", ci)) decline("reference link");
  const href = link.url;
  const title = link.title;
  let pos = skipSpaces(content, ci + 2);
  const destination = parseLinkDestination(content, pos, content.length);
  if (!destination.ok) decline("link destination");
  const rawUrl = content.slice(pos, destination.pos);
  if (rawUrl === "" || rawUrl === "<>" || /[\\&\n]/.test(rawUrl)) decline("link destination with escapes");
  link.url = rawUrl.startsWith("<") ? rawUrl.slice(1, -1) : rawUrl;
  // markdown-it's href is the destination percent-encoded (its normalizeLink): the same text
  // for an ordinary URL, else encoded here too to compare.
  if (link.url !== href && markdownIt.normalizeLink(link.url) !== href) decline("link destination differs");
  pos = skipSpaces(content, destination.pos);
  link.title = null;
  const quote = content[pos];
  if (quote === '"' || quote === "'" || quote === "(") {
    const parsed = parseLinkTitle(content, pos, content.length);
    if (!parsed.ok) decline("link title");
    const rawTitle = content.slice(pos, parsed.pos);
    if (/[\\&\n]/.test(rawTitle)) decline("link title with escapes");
    link.title = rawTitle.slice(1, -1);
    pos = skipSpaces(content, parsed.pos);
  }
  if (link.title !== title || content[pos] !== ")") decline("link title differs");
  return pos + 1;
}

function skipSpaces(content: string, pos: number): number {
  while (content.charCodeAt(pos) === 32) pos++;
  if (content.charCodeAt(pos) === 10) decline("link target across lines");
  return pos;
}
