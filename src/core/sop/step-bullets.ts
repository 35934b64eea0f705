/**
 * ZeroClaw-style attribute bullets: an unordered list directly inside a step whose items are a
 * single line of `key: value` text (`- requires_confirmation: true`, `- tools: shell, git`).
 * Bullets of any other shape stay part of the description.
 */
import type { ListItem } from "mdast";
import type { ProcedureContext } from "./procedure-context.ts";
import { endLine, endOffset, startOf, startOffset } from "./procedure-tree.ts";
import { unquote, type AttributeToken } from "./step-attributes.ts";

// Lower-case snake_case keys only, so prose bullets such as "- Note: …" stay prose.
const BULLET = /^([a-z_][a-z0-9_-]*)[ \t]*:(?:[ \t]+|$)/;

export interface AttributeBullets {
  /** Offsets absolute in SOP.md; `raw` may be empty (`- tools:`). */
  attributes: AttributeToken[];
  /** The list items read as attributes, to leave out of the description. */
  items: ListItem[];
}

export function readAttributeBullets(ctx: ProcedureContext, item: ListItem): AttributeBullets {
  const found: AttributeBullets = { attributes: [], items: [] };
  for (const child of item.children) {
    if (child.type !== "list" || child.ordered === true) continue;
    for (const bullet of child.children) {
      const attribute = readBullet(ctx, bullet);
      if (!attribute) continue;
      found.attributes.push(attribute);
      found.items.push(bullet);
    }
  }
  return found;
}

function readBullet(ctx: ProcedureContext, bullet: ListItem): AttributeToken | undefined {
  const paragraph = bullet.children[0];
  if (bullet.children.length !== 1 || paragraph?.type !== "paragraph") return undefined;
  if (endLine(paragraph) !== startOf(paragraph).line) return undefined;
  const start = startOffset(paragraph);
  const text = ctx.text.slice(start, endOffset(paragraph));
  const match = BULLET.exec(text);
  if (!match?.[1]) return undefined;
  const after = text.slice(match[0].length);
  const raw = after.trim();
  const rawOffset = start + match[0].length + (after.length - after.trimStart().length);
  return { key: match[1], keyOffset: start, raw, rawOffset, value: unquote(raw) };
}
