/** The one table `npm run chaos` prints: a row per scenario, a column per count. */
import { COUNT_NAMES, passed, type CountName, type ScenarioResult } from "./harness.ts";

export const PARSE_LIMIT_MS = 1000;

const HEADERS: Record<CountName, string> = {
  lostOrStuck: "lost/stuck runs",
  completedReRun: "completed steps re-run",
  orphans: "orphaned commands",
  duplicateDecisions: "duplicate decisions",
  auditNotFinal: "audit not final/sealed",
  chainFalseAlarms: "chain false alarms",
  tamperingMissed: "tampering missed",
  healthzFailures: "/healthz failures",
  wrongParseOutcomes: "wrong parse outcomes",
};

export function formatTable(results: readonly ScenarioResult[]): string {
  const header = ["scenario", ...COUNT_NAMES.map((c) => HEADERS[c]), "worst parse", "duration", "result"];
  const rows = results.map((r) => [
    r.name,
    ...COUNT_NAMES.map((c) => (r.skipped ? "skip" : r.error ? "ERR" : r.counts[c] === undefined ? "-" : String(r.counts[c]))),
    r.worstParseMs === undefined ? "-" : `${Math.round(r.worstParseMs)} ms`,
    `${(r.durationMs / 1000).toFixed(1)} s`,
    r.skipped ? "skipped" : passed(r, PARSE_LIMIT_MS) ? "ok" : "FAIL",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

export function totals(results: readonly ScenarioResult[]): { allZero: boolean; worstParseMs: number | undefined; errors: number; skipped: number } {
  const ran = results.filter((r) => !r.skipped);
  const worst = ran.map((r) => r.worstParseMs).filter((v): v is number => v !== undefined);
  return {
    allZero: ran.every((r) => r.error === undefined && Object.values(r.counts).every((n) => n === 0)),
    worstParseMs: worst.length ? Math.max(...worst) : undefined,
    errors: ran.filter((r) => r.error !== undefined).length,
    skipped: results.length - ran.length,
  };
}
