/**
 * The one markdown-it the fast tier parses with: CommonMark without extensions, as remark is
 * configured here (no GFM), and escapes kept as their own tokens (no `text_join`) so the inline
 * walk can see how each was written.
 */
import MarkdownIt from "markdown-it";
import type StateInline from "markdown-it/lib/rules_inline/state_inline.mjs";

export const markdownIt = new MarkdownIt("commonmark");
markdownIt.core.ruler.disable("text_join");
// `normalize` only turns CR line endings into "\n" and NUL into U+FFFD: the fast tier never sees
// either (fastTierAccepts), so it would copy every text through two regexes for nothing.
markdownIt.core.ruler.disable("normalize");
markdownIt.inline.ruler.at("text", plainText);
markdownIt.inline.ruler.before("link", "bracket_without_link", bracketWithoutLink);

/**
 * markdown-it's `text` rule, stopping only where a rule of this markdown-it can start (or where
 * parseLinkLabel looks for a bracket). The stock rule also stops at `:`, `-`, `=`, `#` … for
 * plugins' sake; here every one of those went through each rule in turn only to become one more
 * character of the same pending text, and SOP lines are full of them (`[timeout: 120]`,
 * `sop-0001`, `a == "b"`). The text collected, and so the tokens, are the same.
 */
function plainText(state: StateInline, silent: boolean): boolean {
  const { src, posMax } = state;
  let pos = state.pos;
  while (pos < posMax && !startsInline(src.charCodeAt(pos))) pos++;
  if (pos === state.pos) return false;
  if (!silent) state.pending += src.slice(state.pos, pos);
  state.pos = pos;
  return true;
}

/** \n (newline), ! (image), & (entity), * and _ (emphasis), < (autolink, HTML), [ and ] (links), \ (escape), ` (code), ~ (strikethrough, were it enabled). */
function startsInline(code: number): boolean {
  switch (code) {
    case 0x0a:
    case 0x21:
    case 0x26:
    case 0x2a:
    case 0x3c:
    case 0x5b:
    case 0x5c:
    case 0x5d:
    case 0x5f:
    case 0x60:
    case 0x7e:
      return true;
    default:
      return false;
  }
}

/**
 * A `[` that cannot open a link, taken as plain text at once. Without link definitions (a text
 * with any is declined, fast-markdown-tree.ts), markdown-it's link rule only succeeds where the
 * label's `]` is followed by `(`; before giving up it reads the whole label token by token
 * (parseLinkLabel), and every step's `[if: …, timeout: …]` group pays that twice over. Where no
 * `](` follows, the rule would fail: this one takes the `[` as the tokenizer would after every
 * rule failed (one character of text). The look-ahead it skips leaves only caches behind, which
 * can make markdown-it miss a code span after such a `[` ("[`x`" read as text); without it
 * markdown-it reads that span as CommonMark, and micromark, do. Either way the fast tree is
 * checked against the source, and the tier tests prove it equal to remark's.
 */
function bracketWithoutLink(state: StateInline, silent: boolean): boolean {
  if (state.src.charCodeAt(state.pos) !== 0x5b /* [ */ || (state.env as { references?: unknown }).references !== undefined) return false;
  const close = state.src.indexOf("](", state.pos + 1);
  if (close >= 0 && close + 1 < state.posMax) return false;
  if (!silent) state.pending += "[";
  state.pos++;
  return true;
}
