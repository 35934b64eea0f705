/**
 * The `[key: value, key: value]` group after a step title. A real tokenizer: commas and `]`
 * inside quotes, and commas inside parentheses, do not split, so a condition such as
 * `a == "x, y" || (b && c)` survives intact.
 */
export interface RawAttribute {
  key: string;
  value: string;
  /** 0-based offsets into the text handed to `parseAttributeGroup`. */
  keyOffset: number;
  valueOffset: number;
}

export type AttributeGroup =
  | { ok: true; attributes: RawAttribute[]; end: number }
  | { ok: false; message: string; offset: number };

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/** Parse the group that opens at `text[start] === "["`. */
export function parseAttributeGroup(text: string, start: number): AttributeGroup {
  const parts: { text: string; offset: number }[] = [];
  let partStart = start + 1;
  let depth = 0;
  let quote: string | undefined;
  let quoteAt = 0;
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === "\\") i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      quoteAt = i;
    } else if (ch === "(") depth++;
    else if (ch === ")") depth = Math.max(0, depth - 1);
    else if (ch === "," && depth === 0) {
      parts.push({ text: text.slice(partStart, i), offset: partStart });
      partStart = i + 1;
    } else if (ch === "]" && depth === 0) {
      parts.push({ text: text.slice(partStart, i), offset: partStart });
      return toAttributes(parts, i + 1);
    }
  }
  if (quote) return { ok: false, message: "unterminated string in the attribute group", offset: quoteAt };
  return { ok: false, message: 'attribute group is not closed: expected "]"', offset: start };
}

function toAttributes(parts: { text: string; offset: number }[], end: number): AttributeGroup {
  const attributes: RawAttribute[] = [];
  for (const part of parts) {
    if (part.text.trim() === "" && parts.length === 1) break;
    const colon = part.text.indexOf(":");
    const lead = part.text.length - part.text.trimStart().length;
    if (colon < 0) {
      return { ok: false, message: `expected "key: value" in the attribute group, got "${part.text.trim()}"`, offset: part.offset + lead };
    }
    const key = part.text.slice(0, colon).trim();
    if (!KEY.test(key)) return { ok: false, message: `"${key}" is not an attribute name`, offset: part.offset + lead };
    const rawValue = part.text.slice(colon + 1);
    const valueLead = rawValue.length - rawValue.trimStart().length;
    const value = rawValue.trim();
    const valueOffset = part.offset + colon + 1 + valueLead;
    if (value === "") return { ok: false, message: `attribute "${key}" has no value`, offset: valueOffset };
    attributes.push({ key, value, keyOffset: part.offset + lead, valueOffset });
  }
  return { ok: true, attributes, end };
}

/** `"x"` or `'x'` → `x`; other values as written. */
export function unquote(value: string): string {
  const q = value[0];
  if ((q === '"' || q === "'") && value.length >= 2 && value.endsWith(q)) return value.slice(1, -1);
  return value;
}
