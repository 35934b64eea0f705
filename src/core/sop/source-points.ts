/**
 * remark's positions for offsets into SOP.md: 1-based lines and columns counted in UTF-16 units,
 * as micromark counts them (tabs would count otherwise; the fast tier never sees one).
 */
import type { Node } from "mdast";
import { lineAt, lineStart, type ProcedureContext } from "./procedure-context.ts";

type Position = NonNullable<Node["position"]>;
type Point = Position["start"];

export function point(ctx: ProcedureContext, offset: number): Point {
  // positionAt's fields, without spreading them into a second object: the fast tier makes
  // several points per line.
  const line = lineAt(ctx, offset);
  return { line, column: offset - lineStart(ctx, line) + 1, offset };
}

export function span(ctx: ProcedureContext, from: number, to: number): Position {
  return { start: point(ctx, from), end: point(ctx, to) };
}
