/**
 * The one markdown-it the fast tier parses with: CommonMark without extensions, as remark is
 * configured here (no GFM), and escapes kept as their own tokens (no `text_join`) so the inline
 * walk can see how each was written.
 */
import MarkdownIt from "markdown-it";

export const markdownIt = new MarkdownIt("commonmark");
markdownIt.core.ruler.disable("text_join");
