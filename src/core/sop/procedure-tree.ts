/**
 * Small helpers over the mdast tree. Every walk is iterative: SOP.md may nest lists or quotes
 * thousands deep, and recursion that deep would overflow the stack.
 */
import type { Code, Node, Nodes } from "mdast";
import type { Position } from "./types.ts";

// remark always sets positions on parsed nodes; the fallbacks only satisfy the types.
export function startOffset(node: Node): number {
  return node.position?.start.offset ?? 0;
}

export function endOffset(node: Node): number {
  return node.position?.end.offset ?? startOffset(node);
}

export function startOf(node: Node): Position {
  return { line: node.position?.start.line ?? 1, column: node.position?.start.column ?? 1 };
}

export function endLine(node: Node): number {
  return node.position?.end.line ?? startOf(node).line;
}

/**
 * `node` and everything under it, in document order, as an array: the readers walk every step's
 * tree several times, and a generator costs a resumption per node where a push costs little.
 */
export function descendants(node: Nodes): Nodes[] {
  const found: Nodes[] = [];
  const stack: Nodes[] = [node];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    found.push(next);
    if ("children" in next) {
      for (let i = next.children.length - 1; i >= 0; i--) {
        const child = next.children[i];
        if (child) stack.push(child);
      }
    }
  }
  return found;
}

/** Nodes whose children are blocks; every other node's children (a paragraph's, a heading's) are inline. */
const FLOW_CONTAINERS: ReadonlySet<string> = new Set(["root", "blockquote", "list", "listItem"]);

/**
 * The code blocks in `node`, in document order. Only blocks are opened: a code block is never
 * inline content, and the inline nodes, the most of any tree, are skipped.
 */
export function codeBlocks(node: Nodes): Code[] {
  const found: Code[] = [];
  const stack: Nodes[] = [node];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    if (next.type === "code") found.push(next);
    if (FLOW_CONTAINERS.has(next.type) && "children" in next) {
      for (let i = next.children.length - 1; i >= 0; i--) {
        const child = next.children[i];
        if (child) stack.push(child);
      }
    }
  }
  return found;
}

/** The words of inline content: text and inline code, markup dropped, whitespace collapsed. */
export function plainText(node: Nodes): string {
  let out = "";
  for (const n of descendants(node)) {
    if (n.type === "text" || n.type === "inlineCode") out += n.value;
    else if (n.type === "break") out += " ";
  }
  return collapseSpace(out);
}

export function collapseSpace(text: string): string {
  return isCollapsed(text) ? text : text.replace(/\s+/g, " ").trim();
}

/**
 * Whether collapseSpace would give `text` back unchanged, by one look at each character: titles
 * and headings nearly always are printable ASCII with single spaces between words. Any other
 * character (a tab, a line end, beyond ASCII) leaves it to the regex, which knows every space.
 */
function isCollapsed(text: string): boolean {
  let afterSpace = true;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 32) {
      if (afterSpace) return false;
      afterSpace = true;
    } else if (code > 32 && code < 127) {
      afterSpace = false;
    } else {
      return false;
    }
  }
  return !afterSpace || text === "";
}
