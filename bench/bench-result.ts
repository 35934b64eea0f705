/** What a benchmark reports, and how the runner prints it. */

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The comparison figure measured in the same run, already formatted ("read-only 41 ms"). */
  baseline?: string;
  /** value against the baseline, e.g. "15.2× read-only". */
  ratio?: string;
  /** The goal and where the value stands, e.g. "≤ 1.5× → 2.1× (missed)". Never fails the run. */
  target?: string;
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

/** "≤ 1.5× → 1.32× (met)": `met` decides the verdict word, the figures are the caller's. */
export function targetText(goal: string, actual: string, met: boolean): string {
  return `${goal} → ${actual} (${met ? "met" : "missed"})`;
}

export function resultLine(r: BenchResult): string {
  const parts = [`${r.name}: ${fmt(r.value)} ${r.unit}`];
  if (r.baseline !== undefined) parts.push(`baseline ${r.baseline}`);
  if (r.ratio !== undefined) parts.push(`ratio ${r.ratio}`);
  if (r.target !== undefined) parts.push(`target ${r.target}`);
  if (r.note !== undefined) parts.push(r.note);
  return parts.join(" | ");
}

/** A plain-text table, columns padded to their widest cell. */
export function resultTable(rows: readonly BenchResult[], errors: readonly { name: string; message: string }[]): string {
  const header = ["benchmark", "value", "baseline", "ratio", "target"];
  const cells = [
    header,
    ...rows.map((r) => [r.name, `${fmt(r.value)} ${r.unit}`, r.baseline ?? "", r.ratio ?? "", r.target ?? ""]),
    ...errors.map((e) => [e.name, "ERROR", e.message, "", ""]),
  ];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? "").length)));
  const line = (row: string[]) => row.map((cell, col) => cell.padEnd(widths[col] ?? 0)).join("  ").trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [line(header), rule, ...cells.slice(1).map(line)].join("\n");
}
