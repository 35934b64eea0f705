import type { AuditRecord } from "../core/audit/audit-record.ts";
import { EXIT, type CliContext } from "./cli-context.ts";
import { Refusal } from "./sop-client.ts";

/** SPEC §5.2: the run's state as an exit code. */
export function exitForStatus(status: string): number {
  switch (status) {
    case "success":
      return EXIT.ok;
    // Queued when a command returns: behind runs that wait for people (SopRunner.execute).
    case "queued":
    case "awaiting_approval":
    case "awaiting_manual":
      return EXIT.waiting;
    case "failed":
    case "denied":
    case "cancelled":
    case "timed_out":
      return EXIT.runFailed;
    default:
      return EXIT.ok;
  }
}

/** Refusals (cooldown, unknown SOP, nothing waiting, not allowed) exit 4 with the reason; see `Refusal.exit`. */
export function reportRefusal(ctx: CliContext, err: unknown): number {
  if (!(err instanceof Refusal)) throw err;
  if (ctx.json) ctx.out(JSON.stringify({ error: err.message, code: err.code, ...err.body }));
  else ctx.err(ctx.color.red(err.message));
  if (err.body.runs && !ctx.json) for (const r of err.body.runs) ctx.err(`  ${r.id}  ${r.status}${r.waiting ? `  waiting at ${r.waiting}` : ""}`);
  return err.exit;
}

export function printRecord(ctx: CliContext, record: AuditRecord): void {
  if (ctx.json) {
    ctx.out(JSON.stringify(record, null, 2));
    return;
  }
  const waiting = record.approvals.find((a) => a.decision === "pending");
  if (waiting) ctx.out(`run ${record.run_id} of ${record.sop} waits at ${waiting.gate}: sop approve ${record.sop} ${record.run_id}  (or sop deny …)`);
  else if (record.status === "queued") ctx.out(`run ${record.run_id} of ${record.sop} is queued behind runs that wait for a person (sop status ${record.sop}); it starts when a slot frees`);
  else ctx.out(`run ${record.run_id} of ${record.sop}: ${record.status}`);
}

/** One run as `sop status RUN_ID` shows it (local or over HTTP); the exit code is its state. */
export function printRunStatus(ctx: CliContext, record: AuditRecord): number {
  if (ctx.json) ctx.out(JSON.stringify(record, null, 2));
  else {
    ctx.out(`run ${record.run_id} of ${record.sop} ${record.version}: ${record.status}${record.end_reason ? ` — ${record.end_reason}` : ""}`);
    for (const s of record.steps) ctx.out(`  ${String(s.number).padStart(2)}. ${s.title.padEnd(28)} ${s.status}${s.reason ? `  (${s.reason})` : ""}`);
    for (const a of record.approvals) ctx.out(`  ${a.gate}: ${a.decision}${a.by.length ? ` by ${a.by.join(", ")}` : ""}${a.refused.length ? `, ${a.refused.length} refused` : ""}`);
  }
  return exitForStatus(record.status);
}
