/**
 * A run's progress as lines on stderr, from the run's record each time the client sees it change.
 * The lines come from what the record says happened (a step started, finished, a gate asked,
 * decided …), each printed once and in the order it happened, so they are the same whether the
 * records came from events in this process or from polling a server, however many were seen.
 */
import type { AuditRecord } from "../core/audit/audit-record.ts";
import type { CliContext } from "./cli-context.ts";

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const time = (iso: string | null): number => (iso === null ? Number.NaN : Date.parse(iso));

interface Happening {
  key: string;
  at: number;
  print: () => void;
}

/** What the record says happened, in the order it happens within a run (for happenings in the same millisecond). */
function happenings(ctx: CliContext, r: AuditRecord): Happening[] {
  const { color } = ctx;
  const out: Happening[] = [];
  const gate = (a: AuditRecord["approvals"][number], stepName: string) => {
    if (a.decision === "notified") {
      out.push({ key: `${a.gate} notified`, at: time(a.requested_at), print: () => ctx.err(`  ${color.yellow("!")} ${a.gate} announced (approval not required)`) });
      return;
    }
    if (a.decision === "bypassed") return;
    const what = a.kind === "manual" ? "waits for a person to mark it Done or Failed" : "waits for approval";
    out.push({ key: `${a.gate} asked`, at: time(a.requested_at), print: () => ctx.err(`  ${color.yellow("⏸")} ${a.gate}${stepName ? ` (${stepName})` : ""} ${what}: sop approve ${r.sop} ${r.run_id}`) });
    a.refused.forEach((x, i) => out.push({ key: `${a.gate} refused ${i}`, at: time(x.at), print: () => ctx.err(`  ${color.red("⛔")} ${x.by} was refused on ${a.gate}`) }));
    if (a.decision !== "pending" && a.decision !== "partial") {
      out.push({ key: `${a.gate} decided`, at: time(a.decided_at), print: () => ctx.err(`  ${color.yellow("✔")} ${a.gate} ${a.decision}${a.by.length ? ` by ${a.by.join(", ")}` : ""}`) });
    }
  };
  const byGate = new Map(r.approvals.map((a) => [a.gate, a]));
  for (const s of r.steps) {
    const name = `${s.number}. ${s.title}`;
    const a = byGate.get(`step:${s.number}`);
    if (a) gate(a, name);
    if (s.started_at !== null && s.status !== "skipped") out.push({ key: `${s.number} started`, at: time(s.started_at), print: () => ctx.err(`  ${color.cyan("▶")} ${name}`) });
    const took = s.started_at !== null && s.completed_at !== null ? ` (${seconds(s.duration_ms)})` : "";
    const finished = (print: () => void) => out.push({ key: `${s.number} finished`, at: time(s.completed_at ?? r.completed_at), print });
    if (s.status === "success") finished(() => { ctx.err(`  ${color.green("✓")} ${name}${took}`); printStepOutput(ctx, s.output); });
    else if (s.status === "failed") finished(() => { ctx.err(`  ${color.red("✗")} ${name} failed: ${s.reason ?? ""}${took}`); printStepOutput(ctx, s.output); });
    else if (s.status === "skipped") finished(() => ctx.err(color.dim(`  – ${name} skipped: ${s.reason ?? ""}`)));
    else if (s.status === "bypassed") finished(() => ctx.err(`  ${color.yellow("»")} ${name} bypassed`));
    else if (s.status === "cancelled" && s.started_at !== null) finished(() => ctx.err(`  ${color.red("✗")} ${name} cancelled${took}`));
  }
  for (const a of r.approvals) if (!a.gate.startsWith("step:")) gate(a, "");
  if (r.completed_at !== null) {
    const took = r.started_at !== null ? ` in ${seconds(time(r.completed_at) - time(r.started_at))}` : "";
    const paint = r.status === "success" ? color.green : color.red;
    out.push({ key: "finished", at: Number.POSITIVE_INFINITY, print: () => ctx.err(paint(`${r.sop}: ${r.status}${took}${r.end_reason ? ` — ${r.end_reason}` : ""}`)) });
  }
  // A happening without a time (a step skipped before anything ran) keeps its place after the one before it.
  let last = Number.NEGATIVE_INFINITY;
  for (const h of out) last = h.at = Number.isNaN(h.at) ? last : h.at;
  // Stable: happenings at the same time keep the order above.
  return out.map((h, i) => ({ h, i })).sort((x, y) => (x.h.at - y.h.at) || x.i - y.i).map(({ h }) => h);
}

/**
 * A finished step's output under its line (stderr, with the progress), indented, unless
 * `--quiet` or `--json`. It is what the record holds: capped, and with secrets redacted.
 */
export function printStepOutput(ctx: CliContext, output: string): void {
  if (ctx.quiet || ctx.json) return;
  const text = output.replace(/\n+$/, "");
  if (text === "") return;
  for (const line of text.split("\n")) ctx.err(ctx.color.dim(`      ${line}`));
}

export interface ProgressOptions {
  /** Print the run's heading first (a run this command started). */
  heading?: boolean;
  /** The run as the command found it: what happened before this moment is not printed again. */
  since?: number;
}

/** A printer to hand to `SopClient.follow`: each record it gets prints what is new in it. */
export function progressPrinter(ctx: CliContext, opts: ProgressOptions = {}): (record: AuditRecord) => void {
  const printed = new Set<string>();
  let headed = !opts.heading;
  return (record) => {
    if (!headed) {
      headed = true;
      ctx.err(ctx.color.bold(`${record.sop} ${record.version} — run ${record.run_id}`));
    }
    for (const h of happenings(ctx, record)) {
      if (printed.has(h.key)) continue;
      printed.add(h.key);
      if (opts.since !== undefined && h.at < opts.since) continue;
      h.print();
    }
  };
}

/**
 * When the decision in `record` was taken: the latest thing a person did at one of its gates.
 * Progress after a decision starts there, so it shows the decision and what followed.
 */
export function decidedAt(record: AuditRecord): number {
  let latest = Number.NEGATIVE_INFINITY;
  for (const a of record.approvals) {
    for (const t of [a.decided_at, ...a.refused.map((x) => x.at), ...a.comments.map((c) => c.at)]) {
      const at = time(t);
      if (!Number.isNaN(at) && at > latest) latest = at;
    }
  }
  return latest;
}
