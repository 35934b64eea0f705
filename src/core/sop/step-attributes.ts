/**
 * The `[key: value, key: value]` group after a step title (SPEC §2.2), tokenized by hand: a
 * quoted string (either quote, backslash escapes) may hold commas and `]`, and commas inside
 * parentheses do not split, so a condition such as `a == "x, y" || (b && c)` stays one value.
 * All offsets are 0-based indexes into the text handed in.
 */

export interface AttributeToken {
  key: string;
  keyOffset: number;
  /** The value as written, trimmed; a condition keeps its quotes. Never empty. */
  raw: string;
  rawOffset: number;
  /** `raw` without its quotes when the whole value is one quoted string, else `raw`. */
  value: string;
}

export interface AttributeSyntaxError {
  message: string;
  offset: number;
}

export interface AttributeGroup {
  /** Offset of the `[`. */
  start: number;
  /** Offset just past the closing `]`, or the text's length when the group is never closed. */
  end: number;
  /** The well-formed `key: value` pairs, in order (duplicates included: the caller judges). */
  attributes: AttributeToken[];
  errors: AttributeSyntaxError[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
// Sticky, so probing every `[` of a long line never copies the rest of the line.
const OPENING = /\[[ \t]*[A-Za-z_][A-Za-z0-9_-]*[ \t]*:/y;
const SHOWN_MAX = 40;

/** Whether `text[index]` opens something shaped like an attribute group: `[key:`. */
export function looksLikeAttributeGroup(text: string, index: number): boolean {
  OPENING.lastIndex = index;
  return OPENING.test(text);
}

/** Reads the group whose `[` is at `text[start]`; never throws, whatever follows. */
export function parseAttributeGroup(text: string, start: number): AttributeGroup {
  const attributes: AttributeToken[] = [];
  const errors: AttributeSyntaxError[] = [];
  let segmentStart = start + 1;
  let depth = 0;
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"' || ch === "'") {
      const close = closingQuote(text, i);
      if (close < 0) {
        errors.push({ message: `unterminated string: the ${ch} opened here is never closed`, offset: i });
        return { start, end: text.length, attributes, errors };
      }
      i = close;
    } else if (ch === "(") {
      depth++;
    } else if (ch === ")") {
      depth = Math.max(0, depth - 1);
    } else if (ch === "]" || (ch === "," && depth === 0)) {
      // `]` ends the group even inside parentheses: the condition parser then names the missing `)`.
      readSegment(text, segmentStart, i, attributes, errors);
      if (ch === "]") return { start, end: i + 1, attributes, errors };
      segmentStart = i + 1;
    }
  }
  errors.push({ message: 'unbalanced "[": the attribute group is never closed; end it with "]"', offset: start });
  return { start, end: text.length, attributes, errors };
}

function readSegment(text: string, from: number, to: number, attributes: AttributeToken[], errors: AttributeSyntaxError[]): void {
  const segment = text.slice(from, to);
  const trimmed = segment.trim();
  // `[]` and a trailing comma are harmless.
  if (trimmed === "") return;
  const keyOffset = from + leadingSpace(segment);
  const colon = segment.indexOf(":");
  if (colon < 0) {
    errors.push({ message: `expected "key: value" in the attribute group, got "${shorten(trimmed)}"`, offset: keyOffset });
    return;
  }
  const key = segment.slice(0, colon).trim();
  if (key === "") {
    errors.push({ message: 'missing attribute name before ":"', offset: from + colon });
    return;
  }
  if (!KEY.test(key)) {
    errors.push({ message: `"${shorten(key)}" is not an attribute name; use letters, digits, "_" and "-"`, offset: keyOffset });
    return;
  }
  const after = segment.slice(colon + 1);
  const raw = after.trim();
  if (raw === "") {
    errors.push({ message: `attribute "${key}" has no value`, offset: keyOffset });
    return;
  }
  attributes.push({ key, keyOffset, raw, rawOffset: from + colon + 1 + leadingSpace(after), value: unquote(raw) });
}

/** Index of the quote that closes the one at `open`, or -1. */
function closingQuote(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** `"a \"b\""` → `a "b"`; anything that is not exactly one quoted string comes back as written. */
export function unquote(value: string): string {
  const quote = value[0];
  if ((quote !== '"' && quote !== "'") || closingQuote(value, 0) !== value.length - 1) return value;
  return value.slice(1, -1).replace(/\\(.)/gs, "$1");
}

function leadingSpace(text: string): number {
  return text.length - text.trimStart().length;
}

/** Keeps a message readable when someone pastes a megabyte into a bracket. */
export function shorten(text: string): string {
  return text.length <= SHOWN_MAX ? text : `${text.slice(0, SHOWN_MAX - 1)}…`;
}
