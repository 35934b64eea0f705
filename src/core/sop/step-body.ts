/**
 * What a step does and says: its code blocks (run or shown) and its description, the item's
 * remaining Markdown source with the code blocks and attribute bullets taken out.
 */
import type { ListItem } from "mdast";
import { lineEnd, lineStart, type ProcedureContext } from "./procedure-context.ts";
import { codeBlocks, endLine, startOf, startOffset } from "./procedure-tree.ts";
import type { StepHeader } from "./step-header.ts";

const RUNNABLE = new Set(["", "bash", "sh", "shell"]);
const TAB_STOP = 4;

export interface StepBody {
  commands: string[];
  shown: { lang: string; code: string }[];
  description: string;
}

export function readStepBody(ctx: ProcedureContext, item: ListItem, header: StepHeader, attributeBullets: ListItem[]): StepBody {
  const commands: string[] = [];
  const shown: { lang: string; code: string }[] = [];
  const first = startOf(item).line;
  // Per line of the item: 0 = description, 1 = a code block's line, 2 = an attribute bullet's.
  // A plain array: a typed array costs far more to make, and there is one per step.
  const removed: number[] = new Array<number>(endLine(item) - first + 1).fill(0);
  for (const node of codeBlocks(item)) {
    const lang = node.lang ?? "";
    if (RUNNABLE.has(lang.toLowerCase())) commands.push(node.value);
    else shown.push({ lang, code: node.value });
    removed.fill(1, startOf(node).line - first, endLine(node) - first + 1);
  }
  for (const bullet of attributeBullets) removed.fill(2, startOf(bullet).line - first, endLine(bullet) - first + 1);
  return { commands, shown, description: describe(ctx, item, header, removed) };
}

function describe(ctx: ProcedureContext, item: ListItem, header: StepHeader, removed: readonly number[]): string {
  const first = startOf(item).line;
  const content = item.children[0];
  if (!content) return "";
  const indent = startOf(content).column - 1;
  const lines: string[] = header.leftover ? [header.leftover] : [];
  for (let line = Math.max(header.bodyLine, first); line <= endLine(item); line++) {
    const kind = removed[line - first];
    if (kind === 1) {
      // Keep the paragraphs around a removed code block apart.
      lines.push("");
      continue;
    }
    if (kind === 2) continue;
    // The item's first line starts with its list marker: take it from where the content starts.
    const from = line === first ? startOffset(content) : lineStart(ctx, line);
    const text = ctx.text.slice(from, lineEnd(ctx, line));
    lines.push(line === first ? text : dedent(text, indent));
  }
  return squeezeBlankLines(lines).join("\n").trim();
}

/** Removes up to `width` columns of leading whitespace, the item's content indentation. */
function dedent(text: string, width: number): string {
  let column = 0;
  let i = 0;
  while (i < text.length && column < width) {
    if (text[i] === " ") column++;
    else if (text[i] === "\t") column += TAB_STOP - (column % TAB_STOP);
    else break;
    i++;
  }
  return text.slice(i).trim() === "" ? "" : text.slice(i);
}

function squeezeBlankLines(lines: string[]): string[] {
  return lines.filter((line, i) => line !== "" || (i > 0 && lines[i - 1] !== ""));
}
