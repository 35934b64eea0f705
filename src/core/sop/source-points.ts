/**
 * remark's positions for offsets into SOP.md: 1-based lines and columns counted in UTF-16 units,
 * as micromark counts them (tabs would count otherwise; the fast tier never sees one).
 */
import type { Node } from "mdast";
import type { ProcedureContext } from "./procedure-context.ts";

type Position = NonNullable<Node["position"]>;
type Point = Position["start"];

export function point(ctx: ProcedureContext, offset: number): Point {
  let low = 0;
  let high = ctx.lineStarts.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((ctx.lineStarts[mid] ?? 0) <= offset) low = mid;
    else high = mid - 1;
  }
  return { line: low + 1, column: offset - (ctx.lineStarts[low] ?? 0) + 1, offset };
}

export function span(ctx: ProcedureContext, from: number, to: number): Position {
  return { start: point(ctx, from), end: point(ctx, to) };
}
