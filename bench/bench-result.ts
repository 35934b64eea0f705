/** What a benchmark reports, and how the runner prints it. */

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The comparison figure measured in the same run, already formatted ("read-only 41 ms"). */
  baseline?: string;
  /** value against the baseline, e.g. "15.2× read-only". */
  ratio?: string;
  /** The goal and where the value stands (see `targetText`). Never fails the run. */
  target?: Target;
  /** Anything that helps read the figure (breakdowns, counts). */
  note?: string;
}

/** Three significant digits, whole numbers kept whole; "1,234" style grouping for big ones. */
export function fmt(n: number): string {
  if (!Number.isFinite(n) || n === 0) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString("en-US");
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

export function ratioText(ratio: number): string {
  return `${ratio.toFixed(2)}×`;
}

/** A goal, the figure measured against it, and whether it was met: the figures are the caller's. */
export interface Target {
  goal: string;
  actual: string;
  met: boolean;
}

export function targetText(goal: string, actual: string, met: boolean): Target {
  return { goal, actual, met };
}

/** "≤ 1.5× → 1.32× (met)" */
function showTarget(t: Target): string {
  return `${t.goal} → ${t.actual} (${t.met ? "met" : "missed"})`;
}

export function resultLine(r: BenchResult): string {
  const parts = [`${r.name}: ${fmt(r.value)} ${r.unit}`];
  if (r.baseline !== undefined) parts.push(`baseline ${r.baseline}`);
  if (r.ratio !== undefined) parts.push(`ratio ${r.ratio}`);
  if (r.target !== undefined) parts.push(`target ${showTarget(r.target)}`);
  if (r.note !== undefined) parts.push(r.note);
  return parts.join(" | ");
}

/**
 * A plain-text table, columns padded to their widest cell, then one line that counts the targets
 * met and names the missed ones, so a regression cannot hide in the rows.
 */
export function resultTable(rows: readonly BenchResult[], errors: readonly { name: string; message: string }[]): string {
  const header = ["benchmark", "value", "baseline", "ratio", "target", "verdict"];
  const verdict = (t: Target | undefined): string => (t === undefined ? "" : t.met ? "met" : "MISSED");
  const cells = [
    header,
    ...rows.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, r.baseline ?? "", r.ratio ?? "", r.target ? `${r.target.goal} → ${r.target.actual}` : "", verdict(r.target)]),
    ...errors.map((e) => [e.name, "ERROR", e.message, "", "", "ERROR"]),
  ];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  const line = (row: string[]) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...cells.slice(1).map(line), "", targetSummary(rows, errors)].join("\n");
}

/** "targets: 17 met, 2 missed (load-sops cold, redis-throughput); 1 benchmark broken (…)" */
function targetSummary(rows: readonly BenchResult[], errors: readonly { name: string }[]): string {
  const targeted = rows.filter((r) => r.target !== undefined);
  const missed = targeted.filter((r) => r.target?.met === false).map((r) => r.name);
  const parts = [`targets: ${targeted.length - missed.length} met, ${missed.length} missed${missed.length ? ` (${missed.join(", ")})` : ""}`];
  if (errors.length) parts.push(`${errors.length} benchmark${errors.length === 1 ? "" : "s"} broken (${errors.map((e) => e.name).join(", ")})`);
  return parts.join("; ");
}
