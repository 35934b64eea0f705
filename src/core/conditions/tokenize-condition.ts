import type { Operand } from "./ast.ts";

export type Punctuation = "==" | "!=" | "!" | "&&" | "||" | "(" | ")";

/**
 * One token of a condition. `offset` is the 0-based index (UTF-16 code units) of its first
 * character in the source; `text` is the source text it was read from, so the next token
 * starts at `offset + text.length`.
 */
export type Token =
  | { kind: "operand"; offset: number; text: string; operand: Operand }
  | { kind: Punctuation; offset: number; text: string }
  | { kind: "end"; offset: number; text: "" };

export interface TokenError {
  kind: "error";
  message: string;
  offset: number;
}

const NUMBER = /^-?\d+(\.\d+)?$/;
const SPACE = /\s/;
const ESCAPES: ReadonlyMap<string, string> = new Map([['"', '"'], ["'", "'"], ["\\", "\\"], ["n", "\n"]]);
// Chat clients and editors like to "smarten" quotes; say so instead of a bare "unexpected character".
const SMART_QUOTES = new Set(["\u201C", "\u201D", "\u2018", "\u2019"]);

/**
 * A character of a variable name or number: letters, digits, _, . and -. By code, not by regex:
 * every step's condition is read a character at a time when a catalog loads.
 */
function isNameChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || (code >= 48 && code <= 57) || code === 95 || code === 46 || code === 45;
}

/** JavaScript's \s: ASCII by code, beyond ASCII (no-break and other Unicode spaces) by the regex. */
function isSpace(source: string, at: number): boolean {
  const code = source.charCodeAt(at);
  if (code === 32 || (code >= 9 && code <= 13)) return true;
  return code > 127 && SPACE.test(source.charAt(at));
}

/** Reads the token that starts at or after `from` (skipping whitespace). */
export function readToken(source: string, from: number): Token | TokenError {
  let at = from;
  while (at < source.length && isSpace(source, at)) at++;
  if (at >= source.length) return { kind: "end", offset: source.length, text: "" };

  const char = source.charAt(at);
  const next = source.charAt(at + 1);
  const punctuation = (kind: Punctuation): Token => ({ kind, offset: at, text: kind });
  const error = (message: string, offset = at): TokenError => ({ kind: "error", message, offset });

  if (isNameChar(source.charCodeAt(at))) return readWord(source, at);
  if (char === '"' || char === "'") return readString(source, at);
  switch (char) {
    case "(":
    case ")":
      return punctuation(char);
    case "=":
      if (next !== "=") return error('"=" is not an operator; use "=="');
      return source.charAt(at + 2) === "=" ? error('"===" is not an operator; use "=="') : punctuation("==");
    case "!":
      if (next !== "=") return punctuation("!");
      return source.charAt(at + 2) === "=" ? error('"!==" is not an operator; use "!="') : punctuation("!=");
    case "&":
      return next === "&" ? punctuation("&&") : error('"&" is not an operator; use "&&"');
    case "|":
      return next === "|" ? punctuation("||") : error('"|" is not an operator; use "||"');
    case "<":
    case ">":
      return error(`"${char}" is not an operator; conditions compare only with "==" and "!="`);
  }
  const shown = String.fromCodePoint(source.codePointAt(at) ?? 0);
  if (SMART_QUOTES.has(shown)) return error(`unexpected character "${shown}"; quote strings with " or '`);
  return error(`unexpected character ${JSON.stringify(shown)}`);
}

function readWord(source: string, start: number): Token {
  let end = start;
  while (end < source.length && isNameChar(source.charCodeAt(end))) end++;
  const text = source.slice(start, end);
  const operand: Operand = NUMBER.test(text)
    ? { kind: "literal", value: Number(text) }
    : text === "true" || text === "false"
      ? { kind: "literal", value: text === "true" }
      : { kind: "var", name: text };
  return { kind: "operand", offset: start, text, operand };
}

function readString(source: string, start: number): Token | TokenError {
  const quote = source.charAt(start);
  const parts: string[] = [];
  let chunkStart = start + 1;
  for (let at = start + 1; at < source.length; at++) {
    const char = source.charAt(at);
    if (char === quote) {
      parts.push(source.slice(chunkStart, at));
      const text = source.slice(start, at + 1);
      return { kind: "operand", offset: start, text, operand: { kind: "literal", value: parts.join("") } };
    }
    if (char !== "\\") continue;
    if (at + 1 >= source.length) break;
    const escaped = ESCAPES.get(source.charAt(at + 1));
    if (escaped === undefined) {
      const shown = String.fromCodePoint(source.codePointAt(at + 1) ?? 0);
      return {
        kind: "error",
        message: `unknown escape "\\${shown}" in a string; the escapes are \\" \\' \\\\ and \\n`,
        offset: at,
      };
    }
    parts.push(source.slice(chunkStart, at), escaped);
    at++;
    chunkStart = at + 1;
  }
  return { kind: "error", message: "unterminated string", offset: start };
}

/** Splits a whole condition into tokens (the last one is `end`), or reports the first bad character. */
export function tokenizeCondition(source: string): { ok: true; tokens: Token[] } | { ok: false; message: string; offset: number } {
  const tokens: Token[] = [];
  let from = 0;
  for (;;) {
    const token = readToken(source, from);
    if (token.kind === "error") return { ok: false, message: token.message, offset: token.offset };
    tokens.push(token);
    if (token.kind === "end") return { ok: true, tokens };
    from = token.offset + token.text.length;
  }
}
