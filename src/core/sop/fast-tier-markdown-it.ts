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
markdownIt.inline.ruler.before("link", "bracket_without_link", bracketWithoutLink);

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
