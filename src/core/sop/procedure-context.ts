/**
 * The SOP.md text being parsed, where its lines start, and the diagnostics found so far.
 * Offsets are 0-based UTF-16 indexes, as remark's `position.offset`; lines and columns are
 * 1-based and computed the way remark computes them, so both kinds of location agree.
 */
import type { Diagnostic, Position } from "./types.ts";

export interface ProcedureContext {
  text: string;
  file: string;
  /** `lineStarts[n - 1]` is the offset where line n starts. */
  lineStarts: number[];
  diagnostics: Diagnostic[];
}

export function createContext(text: string, file: string): ProcedureContext {
  return { text, file, lineStarts: text.includes("\r") ? lineStartsOfAnyEnding(text) : lineStartsOfLf(text), diagnostics: [] };
}

/** Where the lines start when every line ends with "\n" (nearly every file): indexOf finds them at native speed. */
function lineStartsOfLf(text: string): number[] {
  const lineStarts = [0];
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lineStarts.push(at + 1);
  return lineStarts;
}

function lineStartsOfAnyEnding(text: string): number[] {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // Line endings as micromark sees them: \n, \r\n and a lone \r.
    if (code === 10) lineStarts.push(i + 1);
    else if (code === 13) {
      if (text.charCodeAt(i + 1) === 10) i++;
      lineStarts.push(i + 1);
    }
  }
  return lineStarts;
}

/** The 1-based line holding `offset`. */
export function lineAt(ctx: ProcedureContext, offset: number): number {
  let low = 0;
  let high = ctx.lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((ctx.lineStarts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return low + 1;
}

export function positionAt(ctx: ProcedureContext, offset: number): Position {
  const line = lineAt(ctx, offset);
  return { line, column: offset - lineStart(ctx, line) + 1 };
}

export function lineStart(ctx: ProcedureContext, line: number): number {
  return ctx.lineStarts[line - 1] ?? ctx.text.length;
}

/** Offset of the end of `line`, before its line break. */
export function lineEnd(ctx: ProcedureContext, line: number): number {
  const next = ctx.lineStarts[line];
  if (next === undefined) return ctx.text.length;
  return ctx.text.charCodeAt(next - 1) === 10 && ctx.text.charCodeAt(next - 2) === 13 ? next - 2 : next - 1;
}

export function lineText(ctx: ProcedureContext, line: number): string {
  return ctx.text.slice(lineStart(ctx, line), lineEnd(ctx, line));
}

/** Records a diagnostic at an offset into SOP.md or at a position remark reported. */
export function report(
  ctx: ProcedureContext,
  severity: Diagnostic["severity"],
  code: string,
  at: number | Position,
  message: string,
): void {
  const { line, column } = typeof at === "number" ? positionAt(ctx, at) : at;
  ctx.diagnostics.push({ severity, file: ctx.file, line, column, message, code });
}
