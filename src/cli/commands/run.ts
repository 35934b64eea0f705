import { createInterface } from "node:readline/promises";
import type { SopRunner } from "../../app/sop-runner.ts";
import type { AuditRecord } from "../../core/audit/audit-record.ts";
import type { VarValue } from "../../core/sop/types.ts";
import type { CliContext } from "../cli-context.ts";
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
  const progress = printProgress(ctx, runner.store, runner.events);
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
      const next = await askAtGate(ctx, runner, record);
      if (!next) break;
      record = next;
    }
    return { record };
  });
}

async function askAtGate(ctx: CliContext, runner: SopRunner, record: AuditRecord): Promise<AuditRecord | undefined> {
  const gate = record.approvals.find((a) => a.decision === "pending");
  if (!gate) return undefined;
  const manual = gate.kind === "manual";
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${gate.gate} (${gate.reason}): ${manual ? "[d]one, [f]ailed" : "[a]pprove, [d]eny"}, or Enter to leave it waiting: `)).trim();
    const yes = manual ? /^d(one)?$/i : /^a(pprove)?$|^y(es)?$/i;
    const no = manual ? /^f(ail(ed)?)?$/i : /^d(eny)?$|^n(o)?$/i;
    if (!yes.test(answer) && !no.test(answer)) return undefined;
    const opts = { runId: record.run_id, checkpoint: gate.gate, wait: true };
    const result = yes.test(answer) ? await runner.approve(record.sop, opts) : await runner.deny(record.sop, { ...opts, reason: "denied at the terminal" });
    ctx.err(result.message);
    return result.record;
  } catch (err) {
    reportRefusal(ctx, err);
    return undefined;
  } finally {
    rl.close();
  }
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
  const progress = printProgress(ctx, runner.store, runner.events);
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
