/**
 * Small helpers over the mdast tree. Every walk is iterative: SOP.md may nest lists or quotes
 * thousands deep, and recursion that deep would overflow the stack.
 */
import type { Node, Nodes } from "mdast";
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

/** `node` and everything under it, in document order. */
export function* descendants(node: Nodes): Generator<Nodes> {
  const stack: Nodes[] = [node];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    yield next;
    if ("children" in next) {
      for (let i = next.children.length - 1; i >= 0; i--) {
        const child = next.children[i];
        if (child) stack.push(child);
      }
    }
  }
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
  return text.replace(/\s+/g, " ").trim();
}
