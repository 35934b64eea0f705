import type { SopRunner } from "../../app/sop-runner.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { VarValue } from "../../core/sop/types.ts";
import type { CliContext } from "../cli-context.ts";
import { askAtGate } from "../gate-prompt.ts";
import { printProgress } from "../progress.ts";
import { exitForStatus, printRecord, reportRefusal } from "../run-exit.ts";

export interface RunFlags {
  vars: Record<string, VarValue>;
  approveAll: boolean;
  force: boolean;
  interactive: boolean;
}

/**
 * Progress lines while `work` carries a run on, then its record and exit code; refusals exit 4.
 * `work` returns the run's record at rest and, optionally, a message to print before it.
 */
async function withProgress(ctx: CliContext, runner: SopRunner, work: () => Promise<{ record: AuditRecord; message?: string }>): Promise<number> {
  const progress = printProgress(ctx, runner, runner.events);
  try {
    const { record, message } = await work();
    await progress.stop();
    if (message !== undefined && !ctx.json) ctx.err(message);
    printRecord(ctx, record);
    return exitForStatus(record.status);
  } catch (err) {
    return reportRefusal(ctx, err);
  } finally {
    await progress.stop();
  }
}

/** `sop run`: start, show progress, and on a TTY ask at each gate; without one, leave it waiting (exit 3). */
export async function runCommand(ctx: CliContext, runner: SopRunner, name: string, flags: RunFlags): Promise<number> {
  return withProgress(ctx, runner, async () => {
    let record = await runner.execute(name, { vars: flags.vars, skipApproval: flags.approveAll, force: flags.force, trigger: { type: "manual", source: "cli" } });
    while (flags.interactive && exitForStatus(record.status) === 3) {
      const next = await askAtGate(ctx, record, (decision, o) => {
        const opts = { runId: o.runId, checkpoint: o.checkpoint, wait: true };
        return decision === "approve" ? runner.approve(record.sop, opts) : runner.deny(record.sop, { ...opts, ...(o.reason ? { reason: o.reason } : {}) });
      }, (err) => reportRefusal(ctx, err));
      if (!next) break;
      record = next;
    }
    return { record };
  });
}

export async function decideCommand(
  ctx: CliContext, runner: SopRunner, decision: "approve" | "deny", name: string, runId: string | undefined, text: string | undefined,
): Promise<number> {
  return withProgress(ctx, runner, () => {
    const opts = { wait: true, ...(runId ? { runId } : {}), ...(text !== undefined ? (decision === "approve" ? { comment: text } : { reason: text }) : {}) };
    return decision === "approve" ? runner.approve(name, opts) : runner.deny(name, opts);
  });
}

export async function cancelCommand(ctx: CliContext, runner: SopRunner, ref: string): Promise<number> {
  try {
    const { message, record } = await runner.cancel(ref);
    if (ctx.json) ctx.out(JSON.stringify(record, null, 2));
    else ctx.out(message);
    return 0;
  } catch (err) {
    return reportRefusal(ctx, err);
  }
}

export async function triggerCommand(ctx: CliContext, runner: SopRunner, text: string): Promise<number> {
  const progress = printProgress(ctx, runner, runner.events);
  try {
    const results = await runner.trigger(text, { source: "cli", wait: true });
    await progress.stop();
    if (results.length === 0) {
      ctx.err(`no command trigger matches "${text}"`);
      return 4;
    }
    if (ctx.json) ctx.out(JSON.stringify(results.map((r) => (r.record ? r.record : { sop: r.sop, error: r.error?.message, code: r.error?.code })), null, 2));
    let code = 0;
    for (const r of results) {
      if (r.error) {
        if (!ctx.json) ctx.err(`${r.sop}: ${r.error.message}`);
        code = Math.max(code, 4);
      } else if (r.record) {
        if (!ctx.json) printRecord(ctx, r.record);
        code = Math.max(code, exitForStatus(r.record.status));
      }
    }
    return code;
  } finally {
    await progress.stop();
  }
}
