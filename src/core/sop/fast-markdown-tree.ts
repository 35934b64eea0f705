/**
 * The fast tier of SOP.md parsing: markdown-it's tokens turned into the mdast tree that remark
 * (micromark) builds from the same text, positions included, ten times faster. It covers the
 * Markdown that SOPs are written in (ATX headings, paragraphs, lists, fenced code, emphasis,
 * inline code, inline links, escapes) and declines (returns undefined) everything else, so the
 * caller parses with micromark: declining is always correct, a tree that differs is not.
 *
 * Positions are not in markdown-it's tokens (only block line ranges), so they are recomputed
 * from the source, and every computed position is checked against the text it should point at:
 * where markdown-it and the source disagree, this declines instead of guessing.
 *
 * Left out on purpose: `spread` on lists and items (the procedure reader never reads it, and
 * mdast-util-from-markdown's rule for it is its own), so the tree equals remark's less those.
 */
import type { Code, Heading, List, ListItem, Paragraph, Root, RootContent } from "mdast";
import type { Token } from "markdown-it";
import { inlineChildren, type ContentLine } from "./fast-inline-tree.ts";
import { Decline, decline } from "./fast-tier-decline.ts";
import { markdownIt } from "./fast-tier-markdown-it.ts";
import { lineEnd, lineStart, type ProcedureContext } from "./procedure-context.ts";
import { point, span } from "./source-points.ts";

/**
 * Past markdown-it's `maxNesting` (20 in this preset) it silently stops parsing what is nested
 * deeper; well below it, nothing can have been dropped.
 */
const MAX_LEVEL = 12;

/**
 * remark's tree for `ctx.text` (less `spread`), or undefined where the fast tier declines. The
 * text must already be free of what markdown-it reads differently (fastTierAccepts): tabs, CR
 * line endings, NUL.
 */
export function fastMarkdownTree(ctx: ProcedureContext): Root | undefined {
  const tree = attempt(ctx);
  return typeof tree === "string" ? undefined : tree;
}

/** Why the fast tier declines `ctx.text`, or undefined when it takes it: for tests and tuning. */
export function fastTreeDeclines(ctx: ProcedureContext): string | undefined {
  const tree = attempt(ctx);
  return typeof tree === "string" ? tree : undefined;
}

/** The tree, or why there is none. */
function attempt(ctx: ProcedureContext): Root | string {
  try {
    return convert(ctx);
  } catch (error) {
    // Whatever stops the fast tier (a decline, or markdown-it throwing on some text) is the fast
    // tier's failure, not the input's: micromark then parses it, and decides.
    return error instanceof Decline ? error.message : `threw: ${String(error)}`;
  }
}

interface Converter {
  ctx: ProcedureContext;
  tokens: Token[];
  next: number;
}

function convert(ctx: ProcedureContext): Root {
  // What markdown-it leaves in `env`: the link definitions it found, by label.
  const env: { references?: Record<string, unknown> } = {};
  const tokens = markdownIt.parse(ctx.text, env);
  // A link definition makes reference links possible, whose labels are matched with Unicode
  // case folding: micromark's business.
  if (env.references && Object.keys(env.references).length > 0) decline("link definition");
  const conv: Converter = { ctx, tokens, next: 0 };
  const root: Root = { type: "root", children: [] };
  while (conv.next < tokens.length) root.children.push(block(conv));
  root.position = { start: point(ctx, 0), end: point(ctx, ctx.text.length) };
  return root;
}

function take(conv: Converter): Token {
  const token = conv.tokens[conv.next++];
  if (!token) decline("tokens end early");
  if (token.level > MAX_LEVEL) decline("nested too deep for markdown-it");
  return token;
}

function expectClose(conv: Converter, type: string): void {
  if (take(conv).type !== type) decline(`expected ${type}`);
}

/** One block and everything in it, starting at the next token. */
function block(conv: Converter): RootContent {
  const token = take(conv);
  switch (token.type) {
    case "heading_open":
      return heading(conv, token);
    case "paragraph_open":
      return paragraph(conv, token);
    case "fence":
      return fencedCode(conv.ctx, token);
    case "bullet_list_open":
    case "ordered_list_open":
      return list(conv, token);
    default:
      // Indented code, quotes, HTML, thematic breaks: rare in SOPs, left to micromark.
      return decline(`block ${token.type}`);
  }
}

function heading(conv: Converter, open: Token): Heading {
  const { ctx } = conv;
  // Setext headings ("===" / "---" underlines) are metered by micromark: never the fast tier.
  if (!/^#{1,6}$/.test(open.markup)) decline("setext heading");
  const line = lineOf(open);
  const inline = take(conv);
  if (inline.type !== "inline") decline("heading without inline content");
  expectClose(conv, "heading_close");
  const from = lineStart(ctx, line);
  // remark's heading runs to the end of the line, trailing spaces included.
  const to = lineEnd(ctx, line);
  const hashes = ctx.text.indexOf(open.markup, from);
  if (hashes < 0 || hashes >= to || ctx.text.slice(from, hashes).trim() !== "") decline("heading marker");
  let contentStart = hashes + open.markup.length;
  while (ctx.text.charCodeAt(contentStart) === 32) contentStart++;
  if (!ctx.text.startsWith(inline.content, contentStart)) decline("heading text not found in the source");
  const lines: ContentLine[] = [{ offset: contentStart, text: inline.content }];
  return {
    type: "heading",
    depth: open.markup.length as Heading["depth"],
    children: inline.content === "" ? [] : inlineChildren(ctx, inline.children ?? [], inline.content, lines),
    position: span(ctx, hashes, to),
  };
}

function paragraph(conv: Converter, open: Token): Paragraph {
  const { ctx } = conv;
  const inline = take(conv);
  if (inline.type !== "inline") decline("paragraph without inline content");
  expectClose(conv, "paragraph_close");
  const [first, end] = open.map ?? decline("paragraph without lines");
  const lines = contentLines(ctx, inline.content, first, end);
  const head = lines[0] ?? decline("empty paragraph");
  return {
    type: "paragraph",
    children: inlineChildren(ctx, inline.children ?? [], inline.content, lines),
    // remark's paragraph keeps the trailing spaces of its last line; its text does not.
    position: span(ctx, head.offset, lineEnd(ctx, end)),
  };
}

/**
 * Where each line of a paragraph's content starts in the source (`first`, `end`: markdown-it's
 * 0-based line range, the end excluded). markdown-it's content is the
 * paragraph's lines, each a suffix of its source line (container prefixes and indentation cut
 * off), joined with "\n" and trimmed at both ends; so each line is found by its length from the
 * end of its source line, and checked.
 */
function contentLines(ctx: ProcedureContext, content: string, first: number, end: number): ContentLine[] {
  const texts = content.split("\n");
  if (texts.length !== end - first) decline("paragraph lines do not match its line range");
  return texts.map((text, k) => {
    const line = first + k + 1;
    const end = k === texts.length - 1 ? trimmedLineEnd(ctx, line) : lineEnd(ctx, line);
    const offset = end - text.length;
    if (offset < lineStart(ctx, line) || ctx.text.slice(offset, end) !== text) decline("paragraph line not found in the source");
    return { offset, text };
  });
}

function fencedCode(ctx: ProcedureContext, token: Token): Code {
  const [first, end] = token.map ?? decline("fence without lines");
  // markdown-it ends each line of the body with "\n", but the last when the file ends there.
  const body = token.content === "" ? 0 : lineBreaks(token.content) + 1 - (token.content.endsWith("\n") ? 1 : 0);
  const closing = ctx.text.slice(lineStart(ctx, end), lineEnd(ctx, end)).trim();
  // An unclosed fence gets a warning, so the procedure goes to micromark anyway.
  if (end - first !== body + 2 || !closing.startsWith(token.markup) || closing !== closing[0]?.repeat(closing.length)) decline("unclosed fence");
  const from = lineStart(ctx, first + 1);
  const fence = ctx.text.indexOf(token.markup, from);
  if (fence < 0 || fence >= lineEnd(ctx, first + 1) || !/^[ \-*+.)0-9]*$/.test(ctx.text.slice(from, fence))) decline("fence marker");
  // Info strings with escapes or references are decoded by each parser its own way.
  const info = ctx.text.slice(fence + token.markup.length, lineEnd(ctx, first + 1));
  if (/[\\&]/.test(info) || info.trim() !== token.info.trim()) decline("fence info with escapes or references");
  // remark's meta runs to the end of the line, trailing spaces included.
  const match = /^ *([^ ]+)(?: +(.*))?$/.exec(info);
  const lang = match?.[1] ?? null;
  const meta = match?.[2] || null;
  return {
    type: "code",
    lang,
    meta,
    value: token.content.endsWith("\n") ? token.content.slice(0, -1) : token.content,
    // Like a heading, it runs to the end of its closing line, trailing spaces included.
    position: span(ctx, fence, lineEnd(ctx, end)),
  };
}

function list(conv: Converter, open: Token): List {
  const ordered = open.type === "ordered_list_open";
  const close = ordered ? "ordered_list_close" : "bullet_list_close";
  const items: ListItem[] = [];
  let firstNumber: string | undefined;
  for (let token = take(conv); token.type !== close; token = take(conv)) {
    if (token.type !== "list_item_open") decline(`${token.type} in a list`);
    firstNumber ??= token.info;
    items.push(listItem(conv, token));
  }
  const head = items[0];
  const tail = items[items.length - 1];
  if (!head?.position || !tail?.position) decline("empty list");
  // remark's start is the first item's number as written; markdown-it's "start" attribute is
  // left out when it is 1.
  const start = ordered ? Number.parseInt(firstNumber ?? decline("ordered list without a number"), 10) : null;
  return { type: "list", ordered, start, children: items, position: { start: head.position.start, end: tail.position.end } };
}

function listItem(conv: Converter, open: Token): ListItem {
  const { ctx } = conv;
  const line = lineOf(open);
  const from = lineStart(ctx, line);
  // The marker is the line's first non-space character, unless the item opens on a line that
  // already opened another ("- - x", "1. - x"): those are declined below.
  let marker = from;
  while (ctx.text.charCodeAt(marker) === 32) marker++;
  const written = open.info + open.markup;
  if (!ctx.text.startsWith(written, marker)) decline("list marker not where expected");
  const children: ListItem["children"] = [];
  for (let token = conv.tokens[conv.next]; token?.type !== "list_item_close"; token = conv.tokens[conv.next]) {
    if (!token) decline("unclosed list item");
    const child = block(conv);
    if (child.type === "list" && child.position?.start.line === line) decline("two list markers on one line");
    children.push(child as ListItem["children"][number]);
  }
  expectClose(conv, "list_item_close");
  const last = children[children.length - 1];
  if (!last?.position) decline("empty list item");
  return { type: "listItem", checked: null, children, position: { start: point(ctx, marker), end: last.position.end } };
}

/** The 1-based line a block token opens on (markdown-it counts from 0). */
function lineOf(token: Token): number {
  const map = token.map ?? decline(`${token.type} without lines`);
  return map[0] + 1;
}

/** How many "\n" `text` holds, counted in place: splitting a script into lines only to count them cost more than the rest of the block. */
function lineBreaks(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/** lineEnd less trailing spaces. */
function trimmedLineEnd(ctx: ProcedureContext, line: number): number {
  const start = lineStart(ctx, line);
  let end = lineEnd(ctx, line);
  while (end > start && ctx.text.charCodeAt(end - 1) === 32) end--;
  return end;
}
